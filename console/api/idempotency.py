"""Idempotency-Key on POSTs: the same key and body get the first answer again, once.

The record is inserted before the view runs; a unique constraint on (API key, Idempotency-Key)
makes a concurrent duplicate fail to insert and be refused, so two requests never both create.
Answers worth replaying (success and client errors) are kept; 401, 429 and 5xx are not, so the
client may retry them with the same key.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from console.api.errors import ApiError, error_response
from console.api.models import ApiKey, IdempotencyRecord
from media_jobs.errors import ErrorCode

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_NOT_KEPT = {401, 429}


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of the method, path and body. Multipart bodies are hashed field by field and file
    by file (streamed), never loaded into memory whole."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if (request.content_type or "").startswith("multipart/"):
        for name, values in sorted(request.POST.lists()):
            digest.update(f"field {name}={values!r}\n".encode())
        for name, uploads in sorted(request.FILES.lists()):
            for upload in uploads:
                digest.update(f"file {name} {upload.name} {upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _key_for(request: HttpRequest) -> ApiKey | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return ApiKey.authenticate(token.strip()) if scheme.lower() == "bearer" else None


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type)
    response[REPLAYED_HEADER] = "true"
    return response


def handle(request: HttpRequest, call: Callable[[], HttpResponse]) -> HttpResponse:
    """Run the view under the request's Idempotency-Key, if it has one."""
    idem_key = request.headers.get(HEADER)
    if request.method != "POST" or idem_key is None:
        return call()
    api_key = _key_for(request)
    if api_key is None:
        return call()  # the view's authentication answers 401
    if not 1 <= len(idem_key) <= 255:
        return error_response(request, ApiError(ErrorCode.INVALID_PARAMETER,
                                                f"{HEADER}: 1 to 255 characters", HEADER))
    ttl = timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    IdempotencyRecord.objects.filter(api_key=api_key, created_at__lt=timezone.now() - ttl).delete()
    fp = fingerprint(request)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(api_key=api_key, key=idem_key, fingerprint=fp)
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(api_key=api_key, key=idem_key).first()
        if existing is None:
            return error_response(request, ApiError(ErrorCode.CONFLICT, f"{HEADER}: try again", HEADER))
        if existing.fingerprint != fp:
            return error_response(request, ApiError(
                ErrorCode.CONFLICT, f"{HEADER}: already used for a different request", HEADER))
        if existing.status_code is None:
            return error_response(request, ApiError(
                ErrorCode.CONFLICT, f"{HEADER}: the first request with this key is still running", HEADER))
        return _replay(existing)
    try:
        response = call()
    except BaseException:
        record.delete()
        raise
    if response.status_code >= 500 or response.status_code in _NOT_KEPT or response.streaming:
        record.delete()
        return response
    record.status_code = response.status_code
    record.content_type = response.get("Content-Type", "application/json")
    record.body = response.content
    record.save(update_fields=["status_code", "content_type", "body"])
    return response


def idempotent(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap an API view so that its POSTs honour Idempotency-Key."""
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return handle(request, lambda: view(request, *args, **kwargs))

    return wrapped
