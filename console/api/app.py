"""The API object: routers, authentication, and every failure turned into our JSON error shape."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from console.api.auth import ApiKeyAuth
from console.api.errors import ApiError, error_response, from_validation
from console.api.routers import (
    events,
    images,
    subscriptions,
    tasks,
    templates,
    videos,
    workflows,
)
from media_jobs.encode import EncodeError
from media_jobs.errors import ErrorCode, LoopdeckError

DESCRIPTION = """\
Everything the Loopdeck console does, for programs: templates, workflows, videos, tasks,
animated images, and event notifications (push subscriptions with their delivery logs, the event
log, and the pull queue `PullEvents` / `ConfirmEvents`).

**Authentication.** Send `Authorization: Bearer <API key>`; operators create and revoke keys in
the console (API keys page). Loopdeck is single-tenant: it serves one team, and every valid key
sees and may change the whole library. Each request is attributed to its key.

**Errors.** Every failure is JSON `{"code", "message", "field", "request_id"}` with a stable code
(`InvalidParameter`, `MissingParameter`, `ResourceNotFound`, `InvalidVideoFormat`,
`InvalidTimeRange`, `Unauthorized`, `OperationDenied`, `Conflict`, `FileTooLarge`,
`RequestLimitExceeded`, `InternalError`, ...) and the matching HTTP status (400, 401, 403, 404,
409, 413, 429, 500). Every response carries an `X-Request-Id` header.

**Idempotency.** POSTs accept an `Idempotency-Key` header: the same key with the same body returns
the first answer again (with `Idempotent-Replayed: true`) and creates nothing more; the same key
with a different body is a 409.

**Rate limit.** Requests per key per sliding window (settings `API_RATE_LIMIT`, `API_RATE_WINDOW`);
over it, 429 with `Retry-After`.

**Paging.** Lists take `offset` (default 0) and `limit` (default 10, at most 100) and answer
`{"total_count", "offset", "limit", "items"}`.
"""

api = NinjaAPI(
    title="Loopdeck API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
    docs_url=None,
    openapi_url="/openapi.json",
)
api.add_router("/templates", templates.router)
api.add_router("/workflows", workflows.router)
api.add_router("/videos", videos.router)
api.add_router("/tasks", tasks.router)
api.add_router("", images.router)
api.add_router("/subscriptions", subscriptions.router)
api.add_router("/events", events.router)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(request, exc)


@api.exception_handler(LoopdeckError)
def _command_error(request: HttpRequest, exc: LoopdeckError) -> HttpResponse:
    """Every command's refusal, translated once: the code's status, the field it concerns."""
    return error_response(request, ApiError.from_encode(exc))


@api.exception_handler(EncodeError)
def _encode_error(request: HttpRequest, exc: EncodeError) -> HttpResponse:
    return error_response(request, ApiError.from_encode(exc))


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(request, from_validation(exc.errors))


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, ApiError(ErrorCode.UNAUTHORIZED, "a valid API key is required"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {401: ErrorCode.UNAUTHORIZED, 403: ErrorCode.OPERATION_DENIED, 404: ErrorCode.RESOURCE_NOT_FOUND,
            409: ErrorCode.CONFLICT, 413: ErrorCode.FILE_TOO_LARGE,
            429: ErrorCode.REQUEST_LIMIT_EXCEEDED}.get(exc.status_code, ErrorCode.INVALID_PARAMETER)
    if exc.status_code >= 500:
        code = ErrorCode.INTERNAL_ERROR
    return error_response(request, ApiError(code, str(exc), status=exc.status_code))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, ApiError(ErrorCode.RESOURCE_NOT_FOUND, str(exc) or "not found"))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Not answered here: the envelope middleware answers a client's mistake (a body that cannot
    # be parsed) as a 4xx and logs anything else once, with its traceback, as a 500.
    raise exc
