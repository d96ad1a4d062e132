"""What the dialects share: the vendor-side error, parameter flattening, field names and the
lookups by the ids the dialects hand out (FileId / VideoId = a video's public id, TaskId = a
task's id, JobId = an animated image's public id, template ids = definitions)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video

# Our field names in the vendors' spelling, for error codes and messages.
VENDOR_FIELDS = {
    "format": "Format", "width": "Width", "height": "Height", "fps": "Fps", "quality": "Quality",
    "name": "Name", "comment": "Comment", "resolution_adaptive": "ResolutionAdaptive",
    "start": "StartTimeOffset", "end": "EndTimeOffset", "start_time_offset": "StartTimeOffset",
    "end_time_offset": "EndTimeOffset", "duration": "Duration", "title": "Title", "video_id": "FileId",
    "templates": "Definition", "max_frames": "Num", "interval_ms": "Interval",
}


def vendor_field(field: str | None) -> str:
    if not field:
        return ""
    if field[0].isupper():
        return field  # already the vendor's name
    return VENDOR_FIELDS.get(field, "".join(part.capitalize() for part in field.split("_")))


def unflatten(params: dict[str, str]) -> dict[str, Any]:
    """`MediaProcessTask.AnimatedGraphicTaskSet.0.Definition=20001` (the legacy Tencent form) as
    nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in params.items():
        parts = key.split(".")
        node: Any = root
        for part, following in zip(parts, parts[1:]):
            container = [] if following.isdigit() else {}
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                node[index] = node[index] if node[index] is not None else container
                node = node[index]
            else:
                node = node.setdefault(part, container)
        last = parts[-1]
        if isinstance(node, list):
            index = int(last)
            while len(node) <= index:
                node.append(None)
            node[index] = value
        else:
            node[last] = value
    return root


def number(params: dict[str, Any], name: str, default: Any = None, kind: type = float) -> Any:
    value = params.get(name, default)
    if value is None or value == "":
        return default
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, f"{name} must be a number", name) from None


def json_param(params: dict[str, Any], name: str) -> dict[str, Any]:
    text = params.get(name)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, f"{name} is not valid JSON", name) from None
    if not isinstance(value, dict):
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, f"{name} must be a JSON object", name)
    return value


def required(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value in (None, "", []):
        raise LoopdeckError(ErrorCode.MISSING_PARAMETER, f"{name} is required", name)
    return value


def _uuid(text: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return None


def video(file_id: Any, field: str = "FileId") -> Video:
    ident = _uuid(file_id)
    found = Video.objects.filter(public_id=ident).first() if ident else None
    if found is None:
        raise LoopdeckError(ErrorCode.RESOURCE_NOT_FOUND, f"the video {file_id} does not exist", field)
    return found


def task(task_id: Any) -> Task:
    ident = _uuid(task_id)
    found = Task.objects.select_related("video").filter(task_id=ident).first() if ident else None
    if found is None:
        raise LoopdeckError(ErrorCode.RESOURCE_NOT_FOUND, f"the task {task_id} does not exist", "TaskId")
    return found


def job(job_id: Any) -> AnimatedImage:
    ident = _uuid(job_id)
    found = AnimatedImage.objects.filter(public_id=ident).first() if ident else None
    if found is None:
        raise LoopdeckError(ErrorCode.RESOURCE_NOT_FOUND, f"the job {job_id} does not exist", "JobId")
    return found


def template(definition: Any, field: str = "Definition") -> AnimatedImageTemplate:
    text = str(definition).strip()
    found = AnimatedImageTemplate.objects.filter(definition=int(text)).first() \
        if text.isdigit() and len(text) < 10 else None
    if found is None:
        raise LoopdeckError(ErrorCode.RESOURCE_NOT_FOUND, f"the template {definition} does not exist", field)
    return found
