"""Alibaba Multimedia AI 2019-08-10 (aliyun-python-sdk-multimediaai): `CreateGifTask` imports the
video from its URL and makes one animated image with a template; `GetTaskStatus` and
`GetTaskResult` report it by the numeric TaskId (status 0 submitting, 1 running, 2 success,
3 failed). Errors follow the seed's table: status, code and its message form."""

from __future__ import annotations

from typing import Any, Callable

from django.http import HttpRequest, JsonResponse

from console.api.common import attribute
from console.dialects import common as C
from media_jobs.callbacks.events import absolute_url
from media_jobs.commands import tasks as task_commands
from media_jobs.commands import videos as video_commands
from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.models import AnimatedImageTemplate, Task, Video

VERSION = "2019-08-10"
SUBMITTING, RUNNING, SUCCESS, FAILED = 0, 1, 2, 3
_ERRORS = {  # the project's code: (status, Multimedia AI's code, its message form)
    ErrorCode.MISSING_PARAMETER: (400, "MissingParameter", "You must specify the parameter {}."),
    ErrorCode.RESOURCE_NOT_FOUND: (404, "ResourceNotFound",
                                   "The requested resource does not exist. Please check the parameter {}."),
    ErrorCode.INTERNAL_ERROR: (500, "InternalError", "An error occurred while processing your request."),
}
_INVALID = (400, "InvalidParameter", "The specified parameter {} is invalid.")


def from_loopdeck(request_id: str, exc: LoopdeckError) -> JsonResponse:
    status, code, form = _ERRORS.get(exc.code, _INVALID)
    field = C.vendor_field(exc.field) or "request"
    return JsonResponse({"RequestId": request_id, "HostId": "loopdeck", "Code": code,
                         "Message": f"{form.format(field)} {exc.message}"}, status=status)


def _default_template() -> AnimatedImageTemplate:
    return AnimatedImageTemplate.objects.filter(kind=AnimatedImageTemplate.Kind.PRESET,
                                                format="gif").order_by("definition").first()


def create_gif_task(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    C.required(p, "ApplicationId")  # one application in Loopdeck; required as by the vendor
    name = C.required(p, "VideoName")
    url = C.required(p, "VideoUrl")
    if p.get("CallbackUrl"):
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, "per-task callback URLs are not served; subscribe to "
                            "events on the console's Notifications page instead", "CallbackUrl")
    template = C.template(p["TemplateId"], "TemplateId") if p.get("TemplateId") else _default_template()
    video = video_commands.import_from_url(url, name, None, [task_commands.StepRequest(template)],
                                           origin=Task.Origin.VENDOR)
    task = video.tasks.get()
    attribute(request, "task", task.task_id)
    return {"TaskId": task.pk, "Code": "OK"}


def _task(p: dict[str, Any]) -> Task:
    task_id = C.number(p, "TaskId", None, int) if str(p.get("TaskId", "")).isdigit() else None
    task = Task.objects.select_related("video").filter(pk=task_id, origin=Task.Origin.VENDOR).first() \
        if task_id else None
    if task is None:
        raise LoopdeckError(ErrorCode.RESOURCE_NOT_FOUND, f"no task {p.get('TaskId')}", "TaskId")
    return task


def _status(task: Task) -> int:
    if task.status == Task.Status.FINISH:
        return SUCCESS if task.result == Task.Result.SUCCESS else FAILED
    if task.status == Task.Status.ABORTED or task.video.status == Video.Status.FAILED:
        return FAILED
    if task.video.status == Video.Status.PROCESSING:
        return SUBMITTING
    return RUNNING


def get_task_status(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    return {"Status": _status(_task(p)), "Code": "OK"}


def get_task_result(request: HttpRequest, p: dict[str, Any]) -> dict[str, Any]:
    task = _task(p)
    status = _status(task)
    result: dict[str, Any] = {"Status": status, "VideoName": task.video.title, "VideoUrl": ""}
    image = task.outputs.order_by("position").first()
    if status == SUCCESS and image is not None:
        result.update(GifUrl=absolute_url(image.file.url), Width=image.width, Height=image.height,
                      FileSize=image.size, Format=image.container)
    elif status == FAILED:
        code = (image.error_code if image else "") or task.video.error_code or task.error_code
        message = (image.error_message if image else "") or task.video.error_message or task.error_message
        result.update(ErrorCode=code, ErrorMessage=message)
    return {"Status": status, "Result": result, "Code": "OK"}


ACTIONS: dict[str, Callable[[HttpRequest, dict[str, Any]], dict[str, Any]]] = {
    "CreateGifTask": create_gif_task,
    "GetTaskStatus": get_task_status,
    "GetTaskResult": get_task_result,
}
