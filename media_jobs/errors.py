"""The project's one error type and the full list of its codes.

Every command (the rules shared by the console, the JSON API and the vendor dialects) raises
`LoopdeckError`; each front door translates it (a form error beside `field`, a JSON body, a
vendor's own code). The encode core keeps its own small `EncodeError` and codes; `from_encode`
maps one at the boundary.
"""

from __future__ import annotations

from enum import StrEnum

from media_jobs.encode.errors import EncodeError


class ErrorCode(StrEnum):
    """Stable codes shown to operators and returned by the API.

    Names follow the vendors' (Tencent VOD, Alibaba VOD) where one exists, so users can map them.
    """

    # The input
    INVALID_PARAMETER = "InvalidParameter"
    MISSING_PARAMETER = "MissingParameter"
    INVALID_TIME_RANGE = "InvalidTimeRange"
    # The media (raised by the encode core, mapped here)
    INVALID_VIDEO_FORMAT = "InvalidVideoFormat"
    NO_VIDEO_STREAM = "NoVideoStream"
    EMPTY_FILE = "EmptyFile"
    DECODE_FAILED = "DecodeFailed"
    RESOURCE_LIMIT_EXCEEDED = "ResourceLimitExceeded"
    PROCESS_TIMEOUT = "ProcessTimeout"
    WORKER_LOST = "WorkerLost"
    # The media storage had no room for an output (disk or quota full; HTTP's 507 name).
    INSUFFICIENT_STORAGE = "InsufficientStorage"
    # Fetching a source from a URL (Tencent's SourceFileError.DownloadNotAccessible).
    DOWNLOAD_FAILED = "DownloadFailed"
    # An output of a task the operator aborted
    ABORTED = "Aborted"
    # The library's state
    RESOURCE_NOT_FOUND = "ResourceNotFound"
    CONFLICT = "Conflict"
    INTERNAL_ERROR = "InternalError"
    # Access and limits (Alibaba's common error names)
    UNAUTHORIZED = "Unauthorized"
    OPERATION_DENIED = "OperationDenied"
    FILE_TOO_LARGE = "FileTooLarge"
    REQUEST_LIMIT_EXCEEDED = "RequestLimitExceeded"


class LoopdeckError(Exception):
    """A refusal or failure with a named code, a message meant for a person, and the field at
    fault when there is one (so a form can show it beside that field)."""

    def __init__(self, code: ErrorCode | str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, str]:
        data = {"code": str(self.code), "message": self.message}
        if self.field:
            data["field"] = self.field
        return data

    def __repr__(self) -> str:
        return f"LoopdeckError({self.code!s}, {self.message!r}, field={self.field!r})"


def from_encode(exc: EncodeError, field: str | None = None) -> LoopdeckError:
    """The encode core's error as the project's (same code string, message and field)."""
    return LoopdeckError(ErrorCode(str(exc.code)), exc.message, field or exc.field)
