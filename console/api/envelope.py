"""The envelope around every request: a request id, malformed requests answered as the client's
mistake, and for the API every failure in the JSON error shape with one log line.

A middleware rather than a wrapper around the API's views, because the mistakes it answers
happen before any view runs: Django reads the body, the query string and the Host header in
other middleware (CSRF, sessions, the NUL check), and a failure there used to be an HTML 500
without a request id, or a 400 that Django's security logger writes at ERROR with a traceback.
So the envelope reads them first, here, once:

- a body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB; uploads are multipart and stream instead) is
  413 `FileTooLarge`, unread;
- JSON nested deeper than the parser can go, and JSON that does not parse when the request says
  it is JSON, is 400 `InvalidParameter` (text inside it is `console.middleware.text_input`'s to check);
- a multipart body without a valid boundary, too many fields or files, a Host this server does
  not answer for, too many query parameters: 400.

On API paths (/api/v1/) every answer gets the JSON shape: the refusals above, a 404 or 405 from
Django or django-ninja, and an unexpected exception (logged with its traceback, 500). A console
request that asks for JSON (the upload page's script, `status.json`) gets `{"code", "message",
"errors", "request_id"}`; a console page gets a plain 400. Every answer carries `X-Request-Id`.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, RawPostDataException, UnreadablePostError
from django.http.multipartparser import MultiPartParser, MultiPartParserError

from console.api.errors import REQUEST_ID_HEADER, ApiError, error_response, request_id
from console.middleware.uploads import ANONYMOUS_BODY_LIMIT
from media_jobs.errors import ErrorCode

log = logging.getLogger("console.api")

API_PREFIX = "/api/v1/"
_WITH_BODY = {"POST", "PUT", "PATCH", "DELETE"}
_FORM_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}
_STATUS_CODES = {400: ErrorCode.INVALID_PARAMETER, 401: ErrorCode.UNAUTHORIZED, 403: ErrorCode.OPERATION_DENIED,
                 404: ErrorCode.RESOURCE_NOT_FOUND, 405: ErrorCode.INVALID_PARAMETER, 409: ErrorCode.CONFLICT,
                 411: ErrorCode.MISSING_PARAMETER, 413: ErrorCode.FILE_TOO_LARGE,
                 429: ErrorCode.REQUEST_LIMIT_EXCEEDED}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def wants_json(request: HttpRequest) -> bool:
    return (is_api(request) or request.path.endswith(".json")
            or "application/json" in request.headers.get("Accept", ""))


def client_error(exc: BaseException) -> ApiError | None:
    """The client's mistake behind an exception Django or a parser raised, or None for a fault
    of ours."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        return ApiError(ErrorCode.FILE_TOO_LARGE,
                        f"the request body is over the {limit:g} MB limit for requests other than an upload")
    if isinstance(exc, TooManyFieldsSent):
        return ApiError(ErrorCode.INVALID_PARAMETER,
                        f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields or query parameters")
    if isinstance(exc, TooManyFilesSent):
        return ApiError(ErrorCode.INVALID_PARAMETER, f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files")
    if isinstance(exc, DisallowedHost):
        return ApiError(ErrorCode.INVALID_PARAMETER, "Host: not a name this server answers to", "Host")
    if isinstance(exc, MultiPartParserError):
        return ApiError(ErrorCode.INVALID_PARAMETER, f"body: not a readable multipart body ({exc})", "body")
    if isinstance(exc, RawPostDataException):
        # A form body sent where a JSON one is read (the form was parsed first, for the
        # Idempotency-Key's fingerprint).
        return ApiError(ErrorCode.INVALID_PARAMETER, "body: this endpoint reads JSON, not a form", "body")
    if isinstance(exc, UnreadablePostError):
        return ApiError(ErrorCode.INVALID_PARAMETER, "body: the request body could not be read", "body")
    if isinstance(exc, (BadRequest, SuspiciousOperation)):
        return ApiError(ErrorCode.INVALID_PARAMETER, str(exc) or "the request is malformed")
    return None


def check_json(request: HttpRequest, body: bytes) -> ApiError | None:
    """Refuse JSON no parser can take (too deep, whatever the content type says) and, when the
    request says it is JSON, JSON that does not parse."""
    declared = request.content_type == "application/json" or request.content_type.endswith("+json")
    try:
        json.loads(body)
    except RecursionError:
        return ApiError(ErrorCode.INVALID_PARAMETER, "body: JSON nested too deeply", "body")
    except ValueError as exc:  # UnicodeDecodeError included: bad UTF-8
        if declared:
            return ApiError(ErrorCode.INVALID_PARAMETER, f"body: not valid JSON ({str(exc)[:200]})", "body")
    return None


def check_request(request: HttpRequest) -> ApiError | None:
    """Read what other middleware would read later and refuse what cannot be read."""
    try:
        request.get_host()
        request.GET  # noqa: B018 - parsed here so that a failure is ours to answer
        if request.method not in _WITH_BODY:
            return None
        if request.headers.get("Authorization", "").startswith(("OSS ", "OSS4-HMAC-SHA256 ")):
            # An OSS PutObject body is a video: console.dialects.oss streams it to disk itself.
            return None
        if request.content_type == "multipart/form-data":
            # The body streams to the upload handlers later; only its boundary is checked now.
            boundary = request.content_params.get("boundary", "")
            if not MultiPartParser.boundary_re.fullmatch(boundary):
                return ApiError(ErrorCode.INVALID_PARAMETER,
                                "Content-Type: a multipart body needs a valid boundary parameter", "Content-Type")
            if not is_api(request) and request.META.get("CONTENT_LENGTH", "").isdigit() \
                    and int(request.META["CONTENT_LENGTH"]) <= ANONYMOUS_BODY_LIMIT:
                # A small console form (the sign-in form's throttle reads it next): parsed in
                # memory now. Larger ones wait for process_view, after anonymous ones are refused.
                request.POST  # noqa: B018
            return None
        body = request.body
        if body and request.content_type not in _FORM_TYPES:
            return check_json(request, body)
        if request.content_type == "application/x-www-form-urlencoded":
            request.POST  # noqa: B018
    except Exception as exc:  # noqa: BLE001 - only client mistakes are answered; the rest re-raised
        error = client_error(exc)
        if error is None:
            raise
        return error
    return None


def refusal(request: HttpRequest, error: ApiError) -> HttpResponse:
    """A client mistake in the shape this caller reads."""
    if is_api(request):
        return error_response(request, error)
    if wants_json(request):
        return JsonResponse({"code": str(error.code), "message": error.message,
                             "errors": {error.field or "__all__": [error.message]},
                             "request_id": request_id(request)}, status=error.status)
    return HttpResponse(error.message, status=error.status, content_type="text/plain; charset=utf-8")


class EnvelopeMiddleware:
    """Second in MIDDLEWARE (after the security headers and static files): see the module."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        started = time.monotonic()
        error = check_request(request)
        if error is not None:
            log.warning("refused %s %s: %s %s (request %s)", request.method, request.path, error.status,
                        error.code, request.request_id)  # type: ignore[attr-defined]
            response = refusal(request, error)
        else:
            response = self.get_response(request)
        if is_api(request):
            response = self._as_json(request, response)
            key = getattr(request, "api_key", None)
            log.info("api %s %s -> %s in %.0f ms, key %s, request %s", request.method, request.path,
                     response.status_code, (time.monotonic() - started) * 1000, key.prefix if key else "-",
                     request.request_id)  # type: ignore[attr-defined]
        response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
        drain_unread_body(request)
        return response

    def process_view(self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any) -> HttpResponse | None:
        """Parse a console page's multipart body before the CSRF check does (the other middleware
        has refused anonymous uploads by now). API uploads are parsed by their view, after the
        API key is checked, so nobody unknown gets a file spooled to disk."""
        if request.method != "POST" or request.content_type != "multipart/form-data" or is_api(request):
            return None
        try:
            request.POST  # noqa: B018
        except Exception as exc:  # noqa: BLE001 - only client mistakes are answered; the rest re-raised
            error = client_error(exc)
            if error is None:
                raise
            return refusal(request, error)
        return None

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        """A view's exception: the client's mistake as a 4xx; on the API anything else as a
        logged 500 in the JSON shape; on the console Django's own 404 and 500 pages."""
        error = client_error(exc)
        if error is not None:
            log.warning("refused %s %s: %s %s (request %s)", request.method, request.path, error.status, error.code,
                        request_id(request))
            return refusal(request, error)
        if not is_api(request):
            return None
        if isinstance(exc, Http404):
            return error_response(request, ApiError(ErrorCode.RESOURCE_NOT_FOUND, str(exc) or "not found"))
        log.exception("API request %s %s failed (request %s)", request.method, request.path, request_id(request))
        return error_response(request, ApiError(ErrorCode.INTERNAL_ERROR,
                                                "an internal error occurred; quote the request id when reporting it"))

    @staticmethod
    def _as_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """An API answer that Django or django-ninja made as a page (404, 405, 400) in our shape."""
        if response.status_code < 400 or "json" in response.get("Content-Type", ""):
            return response
        status = response.status_code
        if status == 405:
            allowed = response.get("Allow", "")
            return error_response(request, ApiError(
                ErrorCode.INVALID_PARAMETER, f"method {request.method} is not allowed here (allowed: {allowed})",
                status=405, headers={"Allow": allowed}))
        code = _STATUS_CODES.get(status, ErrorCode.INTERNAL_ERROR if status >= 500 else ErrorCode.INVALID_PARAMETER)
        headers = {name: response[name] for name in ("Retry-After", "Allow") if response.has_header(name)}
        return error_response(request, ApiError(code, f"the request failed with status {status}", status=status,
                                                headers=headers))


# A body the answer did not read at all (a refusal from the headers, a 413 unread) is read and
# dropped, up to this size, before the answer goes out. The server closes the connection after
# answering; a client still sending the body would hit the closed socket (a broken pipe, or a
# reset that loses the answer) instead of reading the refusal. Larger bodies (an upload over
# MAX_UPLOAD_SIZE) are not read, and neither is the rest of one whose reading was cut off (a file
# growing past the limit): the answer goes out at once and the connection closes.
DRAIN_LIMIT_BYTES = 8 * 1024 * 1024
_DRAIN_CHUNK = 64 * 1024


def drain_unread_body(request: HttpRequest) -> None:
    if getattr(request, "_read_started", False):  # Django's own mark: something read the body
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if not 0 < length <= DRAIN_LIMIT_BYTES:
        return
    try:
        while request.read(_DRAIN_CHUNK):
            pass
    except (OSError, UnreadablePostError):
        pass  # the client went away: nobody to answer


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other path under the API: a JSON 404, not the console's HTML page."""
    return error_response(request, ApiError(ErrorCode.RESOURCE_NOT_FOUND, f"no API endpoint at {request.path}"))
