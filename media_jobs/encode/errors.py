"""The encode core's own error codes: what can go wrong with a video and its render. The project's
full list (access, limits, the library's state) is media_jobs.errors, which maps these by name."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable codes for media and render failures (a subset of media_jobs.errors.ErrorCode).

    Names follow the vendors' (Tencent VOD, Alibaba VOD) where one exists, so users can map them.
    """

    INVALID_PARAMETER = "InvalidParameter"
    MISSING_PARAMETER = "MissingParameter"
    INVALID_TIME_RANGE = "InvalidTimeRange"
    INVALID_VIDEO_FORMAT = "InvalidVideoFormat"
    NO_VIDEO_STREAM = "NoVideoStream"
    EMPTY_FILE = "EmptyFile"
    DECODE_FAILED = "DecodeFailed"
    RESOURCE_LIMIT_EXCEEDED = "ResourceLimitExceeded"
    PROCESS_TIMEOUT = "ProcessTimeout"
    WORKER_LOST = "WorkerLost"
    # The media storage had no room for an output (disk or quota full; HTTP's 507 name).
    INSUFFICIENT_STORAGE = "InsufficientStorage"
    RESOURCE_NOT_FOUND = "ResourceNotFound"
    INTERNAL_ERROR = "InternalError"


# Errors that describe the input: retrying the same input cannot succeed, so jobs fail at once.
PERMANENT_CODES = frozenset(
    {
        ErrorCode.INVALID_PARAMETER,
        ErrorCode.MISSING_PARAMETER,
        ErrorCode.INVALID_TIME_RANGE,
        ErrorCode.INVALID_VIDEO_FORMAT,
        ErrorCode.NO_VIDEO_STREAM,
        ErrorCode.EMPTY_FILE,
        ErrorCode.DECODE_FAILED,
        ErrorCode.RESOURCE_LIMIT_EXCEEDED,
        ErrorCode.PROCESS_TIMEOUT,
        ErrorCode.RESOURCE_NOT_FOUND,
    }
)


class EncodeError(Exception):
    """A failure with a named code and a message meant for the operator.

    `field` names the spec field at fault, when there is one, so forms can show it beside it.
    """

    def __init__(self, code: ErrorCode | str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.field = field

    @property
    def permanent(self) -> bool:
        return self.code in PERMANENT_CODES

    def as_dict(self) -> dict[str, str]:
        data = {"code": str(self.code), "message": self.message}
        if self.field:
            data["field"] = self.field
        return data

    def __repr__(self) -> str:
        return f"EncodeError({self.code!s}, {self.message!r})"
