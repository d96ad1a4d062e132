"""Which failed animated images an operator may retry, and why not when not.

A retry reruns the same template on the same file. When the failure describes that input (an
offset past the end, a file that does not decode: the encode core's PERMANENT_CODES), the rerun
fails the same way, so the console offers no Retry button and says why, and the retry actions
refuse it. Views, the API and the command layer all ask here, so the rule lives in one place.
"""

from __future__ import annotations

from media_jobs.encode.errors import PERMANENT_CODES
from media_jobs.errors import ErrorCode
from media_jobs.models import AnimatedImage, Task, Video

_WHY = {
    ErrorCode.INVALID_TIME_RANGE: "the time range does not fit this video; start a new task with other offsets",
    ErrorCode.INVALID_PARAMETER: "the template's parameters are invalid for this video; fix the template and start a new task",
    ErrorCode.MISSING_PARAMETER: "a required parameter is missing; start a new task",
    ErrorCode.RESOURCE_LIMIT_EXCEEDED: "the output would exceed a limit; start a new task with a smaller size, rate or range",
    ErrorCode.PROCESS_TIMEOUT: "the render ran past its time limit; start a new task with a smaller size, rate or range",
}


def retry_refusal(image: AnimatedImage) -> str | None:
    """None when a retry can succeed; otherwise the reason to show instead of a Retry button."""
    if image.status != AnimatedImage.Status.FAIL:
        return "only a failed animated image can be retried"
    if image.task.status == Task.Status.ABORTED:
        return "the task was aborted; start a new one"
    if image.video.status == Video.Status.FAILED:
        return f"the video itself cannot be used ({image.video.error_code})"
    code = image.error_code
    if code in PERMANENT_CODES:
        return f"retrying cannot help: {_WHY.get(code, 'the failure comes from the input itself')}"
    return None


def can_retry(image: AnimatedImage) -> bool:
    return retry_refusal(image) is None
