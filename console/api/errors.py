"""API errors: one JSON shape `{code, message, field, request_id}` with the matching HTTP status."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django import forms
from django.http import HttpRequest, JsonResponse

from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.forms import first_error

log = logging.getLogger("console.api")

STATUS = {
    ErrorCode.INSUFFICIENT_STORAGE: 507,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.OPERATION_DENIED: 403,
    ErrorCode.RESOURCE_NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.FILE_TOO_LARGE: 413,
    ErrorCode.REQUEST_LIMIT_EXCEEDED: 429,
    ErrorCode.INTERNAL_ERROR: 500,
}
REQUEST_ID_HEADER = "X-Request-Id"


class ApiError(Exception):
    """An answer other than success, raised anywhere in a view and turned into JSON."""

    def __init__(self, code: ErrorCode | str, message: str, field: str | None = None,
                 status: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.field = field
        self.status = status or STATUS.get(self.code, 400)
        self.headers = headers or {}

    @classmethod
    def from_encode(cls, exc: LoopdeckError, field: str | None = None) -> "ApiError":
        """A command's (or the encode core's) error, its message prefixed with the field it concerns."""
        field = field or exc.field
        message = f"{field}: {exc.message}" if field and not exc.message.startswith(f"{field}:") else exc.message
        return cls(exc.code, message, field)


def not_found(what: str, ident: object) -> ApiError:
    return ApiError(ErrorCode.RESOURCE_NOT_FOUND, f"{what} {ident} does not exist")


def request_id(request: HttpRequest) -> str:
    """This request's id, made on first use (the envelope sets it before the view runs)."""
    rid = getattr(request, "request_id", None)
    if not rid:
        rid = uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
    return rid


def error_response(request: HttpRequest, error: ApiError) -> JsonResponse:
    body: dict[str, Any] = {"code": str(error.code), "message": error.message, "field": error.field,
                            "request_id": request_id(request)}
    response = JsonResponse(body, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    response[REQUEST_ID_HEADER] = body["request_id"]
    return response


def from_form(form: forms.BaseForm, prefix: str = "") -> ApiError:
    """The first error of an invalid form, with the form's own message (the console shows the
    same text beside the field)."""
    error = first_error(form)
    field = f"{prefix}{error.field}" if error.field else None
    message = f"{field}: {error.message}" if field else error.message
    return ApiError(error.code, message, field)


def from_validation(errors: list[dict[str, Any]]) -> ApiError:
    """A pydantic/ninja validation error (wrong type, missing field, unknown field) as ours."""
    first = errors[0] if errors else {}
    # ninja's locations: ("body", "payload", "name"), ("query", "limit"), ("file", "file").
    parts = list(first.get("loc", ()))[1:]
    if parts[:1] == ["payload"]:
        parts = parts[1:]
    field = ""
    for part in parts:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    kind = first.get("type", "")
    message = str(first.get("msg", "invalid value"))
    if kind == "missing":
        return ApiError(ErrorCode.MISSING_PARAMETER, f"{field or 'body'}: this field is required", field or None)
    if kind == "extra_forbidden":
        return ApiError(ErrorCode.INVALID_PARAMETER, f"{field}: unknown field", field or None)
    return ApiError(ErrorCode.INVALID_PARAMETER, f"{field or 'body'}: {message}", field or None)
