"""Upload size limits: refuse a body above MAX_UPLOAD_SIZE before reading it, and stop a file that
grows past the limit while it streams in.

Two layers, because each misses cases the other catches:

- `UploadLimitMiddleware` looks at the headers only. A declared Content-Length above the limit
  (plus room for the multipart envelope) is answered 413 at once and the connection is closed,
  so not one byte of the body reaches the disk. A chunked body (no Content-Length) is refused
  with 411: Django under WSGI reads only Content-Length bytes, so it would see an empty upload.
  Anonymous multipart bodies over 64 KB to console pages go to the sign-in page unread.
- `SizeLimitUploadHandler` counts each file's bytes as the multipart parser hands them over and
  raises StopUpload at the limit, before the spooling handler writes them; the spooled temp file
  is closed (and so deleted) by the parser. The request is marked and the middleware turns the
  view's answer into the same 413.

The web server or proxy in front should also cap bodies (e.g. nginx `client_max_body_size`):
Django's checks run only once a worker thread has the request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse

# Room for the multipart envelope and the small form fields around the file.
ENVELOPE_SLACK = 1024 * 1024
# A form without files (a sign-in form sent as multipart) fits in this; a file does not.
ANONYMOUS_BODY_LIMIT = 64 * 1024
_UNSAFE = {"POST", "PUT", "PATCH"}
_TOO_LARGE = "upload_too_large"


def limit_mb() -> int:
    return settings.MAX_UPLOAD_SIZE // (1024 * 1024)


def too_large_message() -> str:
    return f"The file is larger than the {limit_mb()} MiB upload limit."


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/v1/")


def refusal(request: HttpRequest, status: int, code: str, message: str, field: str | None = "file") -> HttpResponse:
    """The same refusal in the shape each caller reads: the API's error JSON, the upload page
    script's `{"errors": {"file": [...]}}`, or a plain page for a browser without the script."""
    if _is_api(request):
        from console.api.errors import ApiError, error_response

        response: HttpResponse = error_response(request, ApiError(code, message, field, status=status))
    elif "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"code": code, "errors": {field or "__all__": [message]}}, status=status)
    else:
        response = HttpResponse(
            f"<!doctype html><title>{code}</title><h1>Upload refused</h1><p>{message}</p>"
            f'<p><a href="javascript:history.back()">Back</a></p>',
            status=status, content_type="text/html; charset=utf-8",
        )
    # No "Connection: close" here: hop-by-hop headers are the server's (PEP 3333; wsgiref refuses
    # them). gunicorn closes a connection whose body was left unread after draining 64 KB at most.
    return response


class UploadLimitMiddleware:
    """Refuses oversized, chunked and anonymous multipart bodies from their headers alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        early = self._check_headers(request)
        if early is not None:
            return early
        response = self.get_response(request)
        if getattr(request, _TOO_LARGE, False):
            return refusal(request, 413, "FileTooLarge", too_large_message())
        return response

    def _check_headers(self, request: HttpRequest) -> HttpResponse | None:
        if request.method not in _UNSAFE:
            return None
        length = request.META.get("CONTENT_LENGTH") or ""
        if not length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return refusal(request, 411, "MissingParameter",
                           "Send the upload with a Content-Length header (chunked bodies are not accepted).", None)
        if length.isdigit() and int(length) > settings.MAX_UPLOAD_SIZE + ENVELOPE_SLACK:
            return refusal(request, 413, "FileTooLarge", too_large_message())
        if (not _is_api(request) and request.content_type == "multipart/form-data"
                and length.isdigit() and int(length) > ANONYMOUS_BODY_LIMIT
                and not request.user.is_authenticated):
            # Only signed-in operators upload: nobody else gets a file spooled to disk.
            return redirect_to_login(request.get_full_path())
        return None


class SizeLimitUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: passes chunks on until a file exceeds MAX_UPLOAD_SIZE."""

    def new_file(self, *args: object, **kwargs: object) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.MAX_UPLOAD_SIZE:
            if self.request is not None:
                setattr(self.request, _TOO_LARGE, True)
            # connection_reset: do not read (and discard) the rest of a body we refuse anyway.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
