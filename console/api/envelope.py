"""What wraps every API view: a request id on the response, Idempotency-Key handling, JSON for
Django's own 405s, and one log line. Oversized bodies never get here: console.uploads refuses them
from their headers, for the API and the console alike."""

from __future__ import annotations

import functools
import logging
import time
import uuid
from typing import Any, Callable

from django.http import Http404, HttpRequest, HttpResponse

from console.api import idempotency
from console.api.errors import REQUEST_ID_HEADER, ApiError, error_response
from media_jobs.encode import ErrorCode

log = logging.getLogger("console.api")


def envelope(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        started = time.monotonic()
        try:
            response: HttpResponse = idempotency.handle(request, lambda: view(request, *args, **kwargs))
        except Http404:
            # Raised outside the API's own handlers (django-ninja's root view): JSON all the same.
            response = not_found(request)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            response = error_response(request, ApiError(
                ErrorCode.INVALID_PARAMETER, f"method {request.method} is not allowed here (allowed: {allowed})",
                status=405, headers={"Allow": allowed}))
        response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
        key = getattr(request, "api_key", None)
        log.info("api %s %s -> %s in %.0f ms, key %s, request %s", request.method, request.path,
                 response.status_code, (time.monotonic() - started) * 1000, key.prefix if key else "-",
                 request.request_id)  # type: ignore[attr-defined]
        return response

    return wrapped


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other path under the API: a JSON 404, not the console's HTML page."""
    return error_response(request, ApiError(ErrorCode.RESOURCE_NOT_FOUND, f"no API endpoint at {request.path}"))
