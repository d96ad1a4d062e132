"""Alibaba ApsaraVideo VOD 2017-03-21 (the DynamicImage calls of aliyun-python-sdk-vod and
alibabacloud-vod20170321), translated into
media_jobs.commands. Answers are JSON with RequestId; errors carry the vendor's HTTP status and
`{RequestId, HostId, Code, Message, Recommend}`."""

from __future__ import annotations

import json
from typing import Any, Callable

from django.http import HttpRequest, JsonResponse

from console.api.common import attribute
from console.dialects import common as C
from media_jobs.callbacks.events import absolute_url, utc_stamp
from media_jobs.commands import tasks as task_commands
from media_jobs.commands import templates as template_commands
from media_jobs.commands import videos as video_commands
from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.forms import TemplateForm
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video

VOD_VERSION = "2017-03-21"
AUTH_ERRORS = {  # kind: (status, code)
    "missing": (400, "MissingParameter"), "unsupported": (400, "InvalidParameter"),
    "unknown_key": (404, "InvalidAccessKeyId.NotFound"), "bad_signature": (400, "SignatureDoesNotMatch"),
    "expired": (400, "InvalidTimeStamp.Expired"), "nonce_used": (400, "SignatureNonceUsed"),
}
_ERRORS = {  # the project's code: (status, Alibaba's code)
    ErrorCode.INVALID_PARAMETER: (400, "InvalidParameter"), ErrorCode.INVALID_TIME_RANGE: (400, "InvalidParameter"),
    ErrorCode.MISSING_PARAMETER: (400, "MissingParameter"), ErrorCode.RESOURCE_NOT_FOUND: (404, "ResourceNotFound"),
    ErrorCode.CONFLICT: (400, "Forbidden.ResourceInUse"), ErrorCode.OPERATION_DENIED: (403, "Forbidden"),
    ErrorCode.INVALID_VIDEO_FORMAT: (400, "InvalidVideo.Damaged"),
    ErrorCode.REQUEST_LIMIT_EXCEEDED: (429, "Throttling"), ErrorCode.INTERNAL_ERROR: (500, "InternalError"),
}
_NOT_FOUND = {"VideoId": "InvalidVideo.NotFound", "FileId": "InvalidVideo.NotFound",
              "Definition": "InvalidTemplate.NotFound", "JobId": "InvalidJob.NotFound"}
_RECOMMEND = "https://github.com/loopdeck (see the README's error table)"


def answer(request_id: str, body: dict[str, Any]) -> JsonResponse:
    return JsonResponse({"RequestId": request_id, **body})


def error(request_id: str, status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"RequestId": request_id, "HostId": "loopdeck", "Code": code, "Message": message,
                         "Recommend": _RECOMMEND}, status=status)


def from_loopdeck(request_id: str, exc: LoopdeckError) -> JsonResponse:
    field = C.vendor_field(exc.field)
    status, code = _ERRORS.get(exc.code, (400, "InvalidParameter"))
    if exc.code == ErrorCode.RESOURCE_NOT_FOUND:
        code = _NOT_FOUND.get(field, code)
    message = f"The specified parameter {field} is invalid: {exc.message}" if field and status == 400 \
        else exc.message
    return error(request_id, status, code, message)


# Templates ---------------------------------------------------------------------------------------

def _config_changes(config: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for vendor, ours in (("Format", "format"), ("Fps", "fps"), ("Width", "width"), ("Height", "height")):
        if config.get(vendor) not in (None, ""):
            changes[ours] = config[vendor]
    span = config.get("TimeSpan") or {}
    if not isinstance(span, dict):
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "TimeSpan must be an object", "time_span")
    for vendor, ours in (("Seek", "start"), ("Duration", "duration"), ("End", "trim_end")):
        if span.get(vendor) not in (None, ""):
            changes[ours] = span[vendor]
    if "SetDefaultCover" in config:
        changes["set_as_cover"] = str(config["SetDefaultCover"]).lower() == "true"
    return changes


def _template_config(t: AnimatedImageTemplate) -> str:
    span = {k: f"{v:g}" for k, v in (("Seek", t.start), ("Duration", t.duration), ("End", t.trim_end))
            if v is not None}
    return json.dumps({"Format": t.format, "Fps": f"{t.fps:g}", "Width": str(t.width), "Height": str(t.height),
                       "TimeSpan": span, "SetDefaultCover": "true" if t.set_as_cover else "false"})


def _template_info(t: AnimatedImageTemplate) -> dict[str, Any]:
    return {"VodTemplateId": str(t.definition), "Name": t.name, "TemplateType": "DynamicImage",
            "TemplateConfig": _template_config(t), "Source": "System" if t.kind == t.Kind.PRESET else "Custom",
            "IsDefault": "NotDefault", "AppId": "app-1000000",
            "CreationTime": utc_stamp(t.created_at), "ModifyTime": utc_stamp(t.updated_at)}


def _check_type(p: dict[str, Any]) -> None:
    if p.get("TemplateType", "DynamicImage") != "DynamicImage":
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "only TemplateType=DynamicImage is served here",
                            "template_type")


def add_template(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    _check_type(p)
    changes = _config_changes(C.json_param(p, "TemplateConfig"))
    changes["name"] = C.required(p, "Name")
    template = template_commands.save_template(TemplateForm.with_changes(None, changes))
    attribute(request, "template", template.definition)
    return {"VodTemplateId": str(template.definition)}


def update_template(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    template = C.template(C.required(p, "VodTemplateId"), "Definition")
    template_commands.check_editable(template)
    changes = _config_changes(C.json_param(p, "TemplateConfig"))
    if p.get("Name"):
        changes["name"] = p["Name"]
    template_commands.save_template(TemplateForm.with_changes(template, changes))
    attribute(request, "template", template.definition)
    return {"VodTemplateId": str(template.definition)}


def get_template(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    return {"VodTemplateInfo": _template_info(C.template(C.required(p, "VodTemplateId"), "Definition"))}


def list_templates(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    _check_type(p)
    return {"VodTemplateInfoList": [_template_info(t) for t in AnimatedImageTemplate.objects.order_by("definition")]}


def delete_template(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    template = C.template(C.required(p, "VodTemplateId"), "Definition")
    template_commands.delete_template(template)
    attribute(request, "template", template.definition)
    return {"VodTemplateId": str(template.definition)}


# Jobs and videos ---------------------------------------------------------------------------------

def _span_offsets(override: dict[str, Any]) -> tuple[float | None, float | None]:
    span = override.get("TimeSpan") or {}
    if not isinstance(span, dict):
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "OverrideParams.TimeSpan must be an object", "time_span")
    seek = C.number(span, "Seek")
    duration, trim = C.number(span, "Duration"), C.number(span, "End")
    end = None
    if duration is not None:
        end = (seek or 0) + duration
    elif trim is not None:
        end = -trim  # a negative end offset counts from the end of the video
    return seek, end


def submit_job(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    video = C.video(C.required(p, "VideoId"), "VideoId")
    template = C.template(C.required(p, "DynamicImageTemplateId"), "Definition")
    start, end = _span_offsets(C.json_param(p, "OverrideParams"))
    task = task_commands.submit_task(video, [task_commands.StepRequest(template, start, end)],
                                     origin=Task.Origin.VENDOR)
    image = task.outputs.order_by("position").first()
    attribute(request, "task", task.task_id)
    return {"DynamicImageJob": {"JobId": str(image.public_id)}}


def _image_info(i: AnimatedImage) -> dict[str, Any]:
    return {"DynamicImageId": str(i.public_id), "JobId": str(i.public_id), "VideoId": str(i.video.public_id),
            "URL": absolute_url(i.file.url) if i.file else "", "Format": i.container, "Width": str(i.width or 0),
            "Height": str(i.height or 0), "Fps": f"{i.fps or 0:g}", "FileSize": str(i.size or 0),
            "CreationTime": utc_stamp(i.finished_at or i.created_at)}


def list_images(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    video = C.video(C.required(p, "VideoId"), "VideoId")
    images = video.animated_images.filter(status=AnimatedImage.Status.SUCCESS).order_by("created_at")
    return {"DynamicImageList": [_image_info(i) for i in images]}


_VIDEO_STATUS = {Video.Status.READY: "Normal", Video.Status.PROCESSING: "Uploading", Video.Status.FAILED: "UploadFail"}


def _video_info(v: Video) -> dict[str, Any]:
    return {"VideoId": str(v.public_id), "Title": v.title, "Status": _VIDEO_STATUS.get(v.status, v.status),
            "Duration": float(v.duration or 0), "Size": v.size or 0,
            "CoverURL": absolute_url(v.cover_url) if v.cover_url else "",
            "CreationTime": utc_stamp(v.created_at), "ModificationTime": utc_stamp(v.updated_at),
            "Snapshots": {"Snapshot": []}}


def get_video(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    return {"Video": _video_info(C.video(C.required(p, "VideoId"), "VideoId"))}


def list_videos(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    page_no, page_size = C.number(p, "PageNo", 1, int), C.number(p, "PageSize", 10, int)
    if page_no < 1 or not 1 <= page_size <= 100:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "PageNo >= 1 and PageSize 1 to 100", "page_size")
    videos = Video.objects.order_by("-created_at")
    chunk = videos[(page_no - 1) * page_size: page_no * page_size]
    return {"Total": videos.count(), "VideoList": {"Video": [_video_info(v) for v in chunk]}}


def update_video(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    """Title renames; CoverURL sets the cover when it is the URL of one of the video's animated
    images (Loopdeck's covers are its animated images or the frame taken at upload)."""
    video = C.video(C.required(p, "VideoId"), "VideoId")
    if p.get("Title"):
        video_commands.rename_video(video, p["Title"])
    if p.get("CoverURL"):
        wanted = str(p["CoverURL"]).split("?", 1)[0]
        images = video.animated_images.filter(status=AnimatedImage.Status.SUCCESS)
        image = next((i for i in images if i.file and absolute_url(i.file.url).split("?", 1)[0] == wanted), None)
        if image is None:
            raise LoopdeckError(ErrorCode.INVALID_PARAMETER,
                                "CoverURL must be the URL of one of this video's animated images", "cover_url")
        video_commands.set_cover(video, image)
    attribute(request, "video", video.public_id)
    return {}


def delete_videos(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    ids = [i for i in str(C.required(p, "VideoIds")).split(",") if i.strip()]
    if len(ids) > 20:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "at most 20 VideoIds", "video_ids")
    missing = []
    for ident in ids:
        try:
            video = C.video(ident.strip(), "VideoId")
        except LoopdeckError:
            missing.append(ident.strip())
            continue
        video_commands.delete_video(video)
        attribute(request, "video", video.public_id)
    return {"NonExistVideoIds": missing, "ForbiddenVideoIds": []}


VOD_ACTIONS: dict[str, Callable[[HttpRequest, dict[str, Any]], dict[str, Any]]] = {
    "AddVodTemplate": add_template,
    "UpdateVodTemplate": update_template,
    "GetVodTemplate": get_template,
    "ListVodTemplate": list_templates,
    "DeleteVodTemplate": delete_template,
    "SubmitDynamicImageJob": submit_job,
    "ListDynamicImage": list_images,
    "GetVideoInfo": get_video,
    "GetVideoList": list_videos,
    "UpdateVideoInfo": update_video,
    "DeleteVideo": delete_videos,
}
