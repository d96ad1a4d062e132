"""Events: the vendor-shaped payloads and the rows that hold them.

`record()` runs inside the transaction of the state change that causes the event (the model
methods call it), so the event exists exactly when the change does. It freezes both payload
shapes, numbers the event per video, and creates one delivery per matching subscription, whose
job is queued once the transaction commits.

Shapes (field names as the vendors spell them; `EventId` and `Sequence` are ours, added to both):
- Upload finished: Tencent `NewFileUpload`, Alibaba `FileUploadComplete`.
- Animated image finished: Alibaba `DynamicImageComplete` (Tencent has no per-output event).
- Task finished, or any task state change: Tencent `ProcedureStateChanged` (Alibaba has none).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from media_jobs.models import AnimatedImage, Delivery, Event, Subscription, Task, Video

Kind = Event.Kind


def absolute_url(url: str) -> str:
    """The URL as receivers must see it: relative media URLs get PUBLIC_BASE_URL in front."""
    return urljoin(settings.PUBLIC_BASE_URL.rstrip("/") + "/", url) if url else ""


def utc_stamp(moment: datetime | None) -> str:
    """`yyyy-MM-ddTHH:mm:ssZ`, the form both vendors use; '' for no time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def _file_url(field: Any) -> str:
    return absolute_url(field.url) if field else ""


def _metadata(video: Video) -> dict[str, Any]:
    info = video.media_info
    return info.to_metadata() if info else {}


def _offset(value: float | None, fallback: Any) -> float:
    return float(value) if value is not None else float(fallback or 0)


def animated_graphic_task(image: AnimatedImage) -> dict[str, Any]:
    """Tencent's `MediaProcessTaskAnimatedGraphicResult` for one output."""
    failed = image.status == AnimatedImage.Status.FAIL
    result: dict[str, Any] = {
        "Status": image.status,
        # ErrCode is Tencent's legacy number: 0 is success; the named code is in ErrCodeExt.
        "ErrCode": -1 if failed else 0,
        "ErrCodeExt": image.error_code if failed else "",
        "Message": image.error_message if failed else "",
        "Progress": image.progress,
        "Input": {
            "Definition": image.definition,
            "StartTimeOffset": _offset(image.start_time_offset, image.params.get("start")),
            "EndTimeOffset": _offset(image.end_time_offset, image.params.get("end")),
        },
        "BeginProcessTime": utc_stamp(image.begun_at),
        "FinishTime": utc_stamp(image.finished_at),
    }
    if image.status == AnimatedImage.Status.SUCCESS:
        result["Output"] = {
            "Url": _file_url(image.file), "Definition": image.definition, "Container": image.container,
            "Width": image.width, "Height": image.height, "Bitrate": image.bitrate, "Size": image.size,
            "Md5": image.md5, "StartTimeOffset": image.start_offset, "EndTimeOffset": image.end_offset,
        }
    return result


def procedure_state_changed(task: Task) -> dict[str, Any]:
    """Tencent `ProcedureStateChanged` for the task as it is now."""
    video = task.video
    outputs = list(task.outputs.order_by("position"))
    failed = task.result == Task.Result.FAIL
    return {
        "EventType": "ProcedureStateChanged",
        "ProcedureStateChangeEvent": {
            "TaskId": str(task.task_id),
            "Status": task.status,
            "ErrCode": -1 if failed else 0,
            "ErrCodeExt": task.error_code if failed else "",
            "Message": task.error_message if failed else "",
            "FileId": str(video.public_id),
            "FileName": video.title,
            "FileUrl": _file_url(video.file),
            "MetaData": _metadata(video),
            "MediaProcessResultSet": [
                {"Type": "AnimatedGraphics", "AnimatedGraphicTask": animated_graphic_task(o)} for o in outputs
            ],
            "CreateTime": utc_stamp(task.created_at),
            "BeginProcessTime": utc_stamp(task.begun_at),
            "FinishTime": utc_stamp(task.finished_at),
            "TasksPriority": 0,
            "TasksNotifyMode": "",
            "SessionContext": task.session_context,
            "SessionId": task.session_id,
        },
    }


def dynamic_image_complete(image: AnimatedImage, at: datetime) -> dict[str, Any]:
    """Alibaba `DynamicImageComplete` for one finished output (job info absent on failure)."""
    ok = image.status == AnimatedImage.Status.SUCCESS
    payload: dict[str, Any] = {
        "EventTime": utc_stamp(at),
        "EventType": "DynamicImageComplete",
        "VideoId": str(image.video.public_id),
        "Status": "success" if ok else "fail",
        "JobId": str(image.public_id),
        # The seed's flat fields, beside the nested DynamicImageJobInfo (receivers written
        # against either form find theirs).
        "DynamicImageUrl": _file_url(image.file) if ok else "",
        "Format": image.container or image.params.get("format", ""),
        "Width": str(image.width or 0) if ok else "",
        "Height": str(image.height or 0) if ok else "",
        "FileSize": str(image.size or 0) if ok else "",
    }
    if ok:
        # Alibaba sends these as strings.
        payload["DynamicImageJobInfo"] = {
            "JobId": str(image.public_id), "Status": "success", "FileURL": _file_url(image.file),
            "FileSize": str(image.size or 0), "Fps": f"{image.fps or 0:g}", "Height": str(image.height or 0),
            "Width": str(image.width or 0),
        }
    else:
        payload["ErrorCode"] = image.error_code
        payload["ErrorMessage"] = image.error_message
    return payload


def upload_payloads(video: Video, at: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """Tencent `NewFileUpload` and Alibaba `FileUploadComplete` for a video that is READY or FAILED.

    The vendors only announce good uploads; ours also reports a file we could not use, with
    Tencent-style `Status`/`ErrCodeExt`/`Message` and Alibaba-style `ErrorCode`/`ErrorMessage`.
    """
    ok = video.status == Video.Status.READY
    first_task = video.tasks.filter(origin=Task.Origin.UPLOAD).order_by("created_at").first()
    tencent = {
        "EventType": "NewFileUpload",
        "FileUploadEvent": {
            "FileId": str(video.public_id),
            "Status": "SUCCESS" if ok else "FAIL",
            "ErrCodeExt": "" if ok else video.error_code,
            "Message": "" if ok else video.error_message,
            "MediaBasicInfo": {
                "Name": video.title, "CreateTime": utc_stamp(video.created_at), "UpdateTime": utc_stamp(at),
                "Type": (video.container or "").split(",")[0], "MediaUrl": _file_url(video.file),
                "CoverUrl": absolute_url(video.cover_url),
            },
            "MetaData": _metadata(video),
            "ProcedureTaskId": str(first_task.task_id) if first_task else "",
        },
    }
    alibaba: dict[str, Any] = {
        "EventTime": utc_stamp(at), "EventType": "FileUploadComplete", "VideoId": str(video.public_id),
        "Status": "success" if ok else "fail", "Size": video.size, "FileUrl": _file_url(video.file),
    }
    if not ok:
        alibaba.update(ErrorCode=video.error_code, ErrorMessage=video.error_message)
    return tencent, alibaba


def _payloads(kind: str, video: Video, task: Task | None, image: AnimatedImage | None,
              at: datetime) -> tuple[dict | None, dict | None, str]:
    if kind == Kind.UPLOAD:
        tencent, alibaba = upload_payloads(video, at)
        return tencent, alibaba, f"{video.title}: upload {video.status.lower()}"
    if kind == Kind.OUTPUT and image is not None:
        return None, dynamic_image_complete(image, at), f"{image.template_name}: {image.status.lower()}"
    if task is not None:
        return procedure_state_changed(task), None, f"task {str(task.task_id)[:8]}: {task.status.lower()}"
    raise ValueError(f"an event of kind {kind} needs its task or animated image")


def _next_sequence(video: Video) -> int:
    # The UPDATE locks the video row until commit, so concurrent events of one video queue up
    # here and get increasing numbers in commit order.
    Video.objects.filter(pk=video.pk).update(event_seq=F("event_seq") + 1)
    return Video.objects.values_list("event_seq", flat=True).get(pk=video.pk)


def record(kind: str, video: Video, *, task: Task | None = None, image: AnimatedImage | None = None) -> Event:
    """Write one event and its deliveries in the caller's transaction (or a new one)."""
    from media_jobs.callbacks import schedule

    with transaction.atomic():
        now = timezone.now()
        tencent, alibaba, summary = _payloads(kind, video, task, image, now)
        event = Event(event_id=uuid.uuid4(), kind=kind, created_at=now, video=video,
                      video_public_id=video.public_id, task=task, animated_image=image,
                      sequence=_next_sequence(video), summary=summary[:200])
        for payload in (tencent, alibaba):
            if payload is not None:
                payload.update(EventId=str(event.event_id), Sequence=event.sequence)
        event.tencent, event.alibaba = tencent, alibaba
        event.event_type = (tencent or alibaba or {}).get("EventType", "")
        # Tencent's reliable-callback queue carries its own event types; intermediate task
        # states are for subscriptions that ask for them, not for the queue.
        event.in_pull_queue = tencent is not None and kind != Kind.TASK_STATE
        event.pull_visible_at = now if event.in_pull_queue else None
        event.save()
        for subscription in Subscription.objects.filter(enabled=True):
            named = kind == Kind.TASK_FINISH and task is not None and task.notify_topic \
                and subscription.name == task.notify_topic
            if (subscription.wants(kind) or named) and event.payload(subscription.shape) is not None:
                delivery = Delivery.objects.create(event=event, subscription=subscription, next_attempt_at=now)
                schedule.enqueue(delivery)
    return event


def on_state_changed(sender: Any, *, kind: str, video: Video, task: Task | None = None,
                     image: AnimatedImage | None = None, **_: Any) -> None:
    """The receiver of media_jobs.models.state_changed: record the event in that transaction."""
    record(kind, video, task=task, image=image)
