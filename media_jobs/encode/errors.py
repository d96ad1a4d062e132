"""The named error codes, in one place for the encode core, the jobs, the console and the API."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable codes shown to operators and returned by the API.

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
    # Fetching a source from a URL (Tencent's SourceFileError.DownloadNotAccessible).
    DOWNLOAD_FAILED = "DownloadFailed"
    # The JSON API's own answers (Alibaba's common error names).
    UNAUTHORIZED = "Unauthorized"
    OPERATION_DENIED = "OperationDenied"
    CONFLICT = "Conflict"
    FILE_TOO_LARGE = "FileTooLarge"
    REQUEST_LIMIT_EXCEEDED = "RequestLimitExceeded"


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
