"""Tencent Cloud VOD 2018-07-17: the animated-image calls of `tencentcloud-sdk-python-vod`,
translated into media_jobs.commands. Answers are `{"Response": {..., "RequestId"}}` with HTTP 200
and `Content-Type: application/json` exactly (the SDK reads an error only then)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Callable

from django.http import HttpRequest, JsonResponse

from console.api.common import attribute
from console.dialects import common as C
from media_jobs.callbacks.events import absolute_url, animated_graphic_task, procedure_state_changed, utc_stamp
from media_jobs.commands import subscriptions as subscription_commands
from media_jobs.commands import tasks as task_commands
from media_jobs.commands import templates as template_commands
from media_jobs.commands import videos as video_commands
from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.forms import TemplateForm
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video

VERSION = "2018-07-17"
AUTH_CODES = {
    "missing": "AuthFailure.SignatureFailure", "unsupported": "AuthFailure.SignatureFailure",
    "unknown_key": "AuthFailure.SecretIdNotFound", "bad_signature": "AuthFailure.SignatureFailure",
    "expired": "AuthFailure.SignatureExpire", "nonce_used": "AuthFailure.SignatureFailure",
}
# The project's codes as Tencent's; a field adds `.Field` (InvalidParameterValue.Width).
_CODES = {
    ErrorCode.INVALID_PARAMETER: "InvalidParameterValue", ErrorCode.INVALID_TIME_RANGE: "InvalidParameterValue",
    ErrorCode.MISSING_PARAMETER: "MissingParameter", ErrorCode.RESOURCE_NOT_FOUND: "ResourceNotFound",
    ErrorCode.CONFLICT: "FailedOperation", ErrorCode.OPERATION_DENIED: "UnauthorizedOperation",
    ErrorCode.INVALID_VIDEO_FORMAT: "FailedOperation.InvalidVideo",
    ErrorCode.REQUEST_LIMIT_EXCEEDED: "LimitExceeded", ErrorCode.INTERNAL_ERROR: "InternalError",
}
_NOT_FOUND = {"FileId": "ResourceNotFound.FileNotExist", "Definition": "ResourceNotFound.TemplateNotExist",
              "TaskId": "ResourceNotFound.TaskNotExist"}


def answer(request_id: str, body: dict[str, Any]) -> JsonResponse:
    return JsonResponse({"Response": {**body, "RequestId": request_id}}, content_type="application/json")


def error(request_id: str, code: str, message: str) -> JsonResponse:
    return answer(request_id, {"Error": {"Code": code, "Message": message}})


def from_loopdeck(request_id: str, exc: LoopdeckError) -> JsonResponse:
    field = C.vendor_field(exc.field)
    if exc.code == ErrorCode.RESOURCE_NOT_FOUND:
        code = _NOT_FOUND.get(field, "ResourceNotFound")
    elif exc.code in (ErrorCode.INVALID_PARAMETER, ErrorCode.INVALID_TIME_RANGE) and field:
        code = f"InvalidParameterValue.{field}"
    else:
        code = _CODES.get(exc.code, "FailedOperation")
    message = f"{field}: {exc.message}" if field and not exc.message.startswith(field) else exc.message
    return error(request_id, code, message)


# Templates ---------------------------------------------------------------------------------------

def _template_changes(p: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for vendor, ours in (("Name", "name"), ("Comment", "comment"), ("Format", "format"), ("Width", "width"),
                         ("Height", "height"), ("Fps", "fps"), ("Quality", "quality")):
        if p.get(vendor) is not None:
            value = p[vendor]
            changes[ours] = round(float(value)) if ours == "quality" and _numeric(value) else value
    adaptive = p.get("ResolutionAdaptive")
    if adaptive is not None:
        if str(adaptive) not in ("open", "close"):
            raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "must be open or close", "resolution_adaptive")
        changes["resolution_adaptive"] = str(adaptive) == "open"
    return changes


def _numeric(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def template_info(t: AnimatedImageTemplate) -> dict[str, Any]:
    return {
        "Definition": t.definition, "Type": t.kind, "Name": t.name, "Comment": t.comment, "Format": t.format,
        "Width": t.width, "Height": t.height, "ResolutionAdaptive": "open" if t.resolution_adaptive else "close",
        "Fps": round(t.fps), "Quality": float(t.quality),
        "CreateTime": utc_stamp(t.created_at), "UpdateTime": utc_stamp(t.updated_at),
    }


def create_template(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    C.required(p, "Format")
    template = template_commands.save_template(TemplateForm.with_changes(None, _template_changes(p)))
    attribute(request, "template", template.definition)
    return {"Definition": template.definition}


def modify_template(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    template = C.template(C.required(p, "Definition"))
    template_commands.check_editable(template)
    template_commands.save_template(TemplateForm.with_changes(template, _template_changes(p)))
    attribute(request, "template", template.definition)
    return {}


def describe_templates(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    templates = AnimatedImageTemplate.objects.order_by("definition")
    if p.get("Definitions"):
        templates = templates.filter(definition__in=[C.number({"d": d}, "d", kind=int) for d in p["Definitions"]])
    if p.get("Type") in ("Preset", "Custom"):
        templates = templates.filter(kind=p["Type"])
    offset = C.number(p, "Offset", 0, int)
    limit = C.number(p, "Limit", 10, int)
    if offset < 0 or not 1 <= limit <= 100:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "Offset must be >= 0 and Limit 1 to 100", "limit")
    return {"TotalCount": templates.count(),
            "AnimatedGraphicsTemplateSet": [template_info(t) for t in templates[offset:offset + limit]]}


def delete_template(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    template = C.template(C.required(p, "Definition"))
    template_commands.delete_template(template)
    attribute(request, "template", template.definition)
    return {}


# Processing --------------------------------------------------------------------------------------

def process_media(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    video = C.video(C.required(p, "FileId"))
    task_set = (p.get("MediaProcessTask") or {}).get("AnimatedGraphicTaskSet") or []
    if not isinstance(task_set, list) or not task_set:
        raise LoopdeckError(ErrorCode.MISSING_PARAMETER, "MediaProcessTask.AnimatedGraphicTaskSet is required",
                            "templates")
    steps = []
    for item in task_set:
        if not isinstance(item, dict):
            raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "each AnimatedGraphicTaskSet item is an object",
                                "templates")
        steps.append(task_commands.StepRequest(
            C.template(C.required(item, "Definition")),
            C.number(item, "StartTimeOffset"), C.number(item, "EndTimeOffset")))
    task = task_commands.submit_task(video, steps, origin=Task.Origin.VENDOR, session_id=str(p.get("SessionId") or ""),
                                     session_context=str(p.get("SessionContext") or ""))
    attribute(request, "task", task.task_id)
    return {"TaskId": str(task.task_id)}


def describe_task_detail(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    task = C.task(C.required(p, "TaskId"))
    procedure = procedure_state_changed(task)["ProcedureStateChangeEvent"]
    return {"TaskType": "Procedure", "Status": task.status, "CreateTime": utc_stamp(task.created_at),
            "BeginProcessTime": utc_stamp(task.begun_at), "FinishTime": utc_stamp(task.finished_at),
            "ProcedureTask": procedure}


def describe_tasks(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    tasks = Task.objects.select_related("video").order_by("-created_at")
    if p.get("Status"):
        tasks = tasks.filter(status=p["Status"])
    if p.get("FileId"):
        tasks = tasks.filter(video=C.video(p["FileId"]))
    limit = C.number(p, "Limit", 10, int)
    if not 1 <= limit <= 100:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "Limit must be 1 to 100", "limit")
    return {"TaskSet": [{"TaskId": str(t.task_id), "TaskType": "Procedure", "FileId": str(t.video.public_id),
                         "Status": t.status, "CreateTime": utc_stamp(t.created_at),
                         "BeginProcessTime": utc_stamp(t.begun_at), "FinishTime": utc_stamp(t.finished_at)}
                        for t in tasks[:limit]], "ScrollToken": ""}


# Media -------------------------------------------------------------------------------------------

def media_info(video: Video, filters: list[str]) -> dict[str, Any]:
    info: dict[str, Any] = {"FileId": str(video.public_id)}
    if not filters or "basicInfo" in filters:
        info["BasicInfo"] = {
            "Name": video.title, "Type": (video.container or "").split(",")[0], "Status": video.status,
            "CreateTime": utc_stamp(video.created_at), "UpdateTime": utc_stamp(video.updated_at),
            "MediaUrl": absolute_url(video.file.url) if video.file else "",
            "CoverUrl": absolute_url(video.cover_url) if video.cover_url else "",
        }
    if not filters or "metaData" in filters:
        meta = video.media_info
        info["MetaData"] = meta.to_metadata() if meta else {}
    if not filters or "animatedGraphicsInfo" in filters:
        images = video.animated_images.filter(status=AnimatedImage.Status.SUCCESS).order_by("created_at")
        info["AnimatedGraphicsInfo"] = {"AnimatedGraphicsSet": [
            animated_graphic_task(i)["Output"] for i in images]}
    return info


def describe_media_infos(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    ids = C.required(p, "FileIds")
    if not isinstance(ids, list) or len(ids) > 20:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "FileIds is a list of at most 20 ids", "file_ids")
    found, missing = [], []
    for file_id in ids:
        try:
            found.append(media_info(C.video(file_id), list(p.get("Filters") or [])))
        except LoopdeckError:
            missing.append(file_id)
    return {"MediaInfoSet": found, "NotExistFileIdSet": missing}


def modify_media_info(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    """Name renames; CoverData sets the cover when it is one of the video's animated images (the
    cover in Loopdeck is always one of them or the frame taken at upload)."""
    video = C.video(C.required(p, "FileId"))
    if p.get("Name") is not None:
        video_commands.rename_video(video, str(p["Name"]))
    cover_url = ""
    if p.get("CoverData"):
        try:
            digest = hashlib.md5(base64.b64decode(str(p["CoverData"]), validate=True)).hexdigest()  # noqa: S324
        except ValueError:
            raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "CoverData is not base64", "cover_data") from None
        image = video.animated_images.filter(md5=digest, status=AnimatedImage.Status.SUCCESS).first()
        if image is None:
            raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "CoverData must be the bytes of one of this video's "
                                "animated images (Loopdeck's covers are its animated images)", "cover_data")
        video_commands.set_cover(video, image)
        video.refresh_from_db()
        cover_url = absolute_url(video.cover_url)
    attribute(request, "video", video.public_id)
    return {"CoverUrl": cover_url, "AddedKeyFrameDescSet": [], "AddedSubtitleSet": []}


def delete_media(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    video = C.video(C.required(p, "FileId"))
    video_commands.delete_video(video)
    attribute(request, "video", video.public_id)
    return {}


# Events ------------------------------------------------------------------------------------------

def pull_events(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    events = subscription_commands.pull_events(max_events=16, wait_seconds=float(C.number(p, "WaitTime", 0)))
    return {"EventSet": [e.content for e in events]}


def confirm_events(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    handles = C.required(p, "EventHandles")
    if not isinstance(handles, list):
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "EventHandles is a list", "event_handles")
    result = subscription_commands.confirm_events([str(h) for h in handles])
    if result.invalid:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, f"not current: {', '.join(result.invalid)}",
                            "event_handles")
    return {}


ACTIONS: dict[str, Callable[[HttpRequest, dict[str, Any]], dict[str, Any]]] = {
    "CreateAnimatedGraphicsTemplate": create_template,
    "ModifyAnimatedGraphicsTemplate": modify_template,
    "DescribeAnimatedGraphicsTemplates": describe_templates,
    "DeleteAnimatedGraphicsTemplate": delete_template,
    "ProcessMedia": process_media,
    "DescribeTaskDetail": describe_task_detail,
    "DescribeTasks": describe_tasks,
    "DescribeMediaInfos": describe_media_infos,
    "ModifyMediaInfo": modify_media_info,
    "DeleteMedia": delete_media,
    "PullEvents": pull_events,
    "ConfirmEvents": confirm_events,
}
