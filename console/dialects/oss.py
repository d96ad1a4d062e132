"""An Alibaba OSS-style endpoint for the oss2 SDK: PutObject, GetObject, HeadObject and
DeleteObject over the media library, and `POST /<object>?x-oss-async-process` running a
`video/animation` process string, its `sys/saveas` naming where the result appears and its
`notify` the subscription that hears the task finish. Path style (`/<bucket>/<object>`, what
oss2 uses with an IP endpoint), or virtual-host style (`<bucket>.<LOOPDECK_OSS_HOST>`).
Requests are recognised by their OSS signature (V1 `OSS id:sig`, V4 `OSS4-HMAC-SHA256`); errors
are OSS's XML with its statuses. No rule lives here: uploads, templates and tasks go through
media_jobs.commands."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import uuid
from email.utils import formatdate
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import IntegrityError, transaction
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse

from console.api.common import attribute
from console.api.models import OssObject
from console.dialects import signatures
from media_jobs import process_string
from media_jobs.commands import tasks as task_commands
from media_jobs.commands import templates as template_commands
from media_jobs.commands import videos as video_commands
from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.forms import TemplateForm
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task

log = logging.getLogger("console.dialects")
ASYNC = "x-oss-async-process"
SYNC = "x-oss-process"
AUTH_ERRORS = {"missing": (403, "AccessDenied"), "unsupported": (403, "AccessDenied"),
               "unknown_key": (403, "InvalidAccessKeyId"), "bad_signature": (403, "SignatureDoesNotMatch"),
               "expired": (403, "RequestTimeTooSkewed"), "nonce_used": (403, "AccessDenied")}
_ERRORS = {ErrorCode.MISSING_PARAMETER: (400, "InvalidArgument"), ErrorCode.INVALID_PARAMETER: (400, "InvalidArgument"),
           ErrorCode.INVALID_TIME_RANGE: (400, "InvalidArgument"), ErrorCode.RESOURCE_NOT_FOUND: (404, "NoSuchKey"),
           ErrorCode.FILE_TOO_LARGE: (400, "EntityTooLarge"), ErrorCode.CONFLICT: (409, "OperationConflict"),
           ErrorCode.INVALID_VIDEO_FORMAT: (400, "InvalidArgument"), ErrorCode.NO_VIDEO_STREAM: (400, "InvalidArgument"),
           ErrorCode.EMPTY_FILE: (400, "InvalidArgument"), ErrorCode.REQUEST_LIMIT_EXCEEDED: (503, "SlowDown")}


def is_oss(request: HttpRequest) -> bool:
    return request.headers.get("Authorization", "").startswith(("OSS ", "OSS4-HMAC-SHA256 "))


def error(request_id: str, status: int, code: str, message: str, **extra: str) -> HttpResponse:
    more = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in extra.items())
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(message)}</Message>'
            f"<RequestId>{request_id}</RequestId><HostId>loopdeck</HostId>{more}</Error>")
    response = HttpResponse(body, status=status, content_type="application/xml")
    response["x-oss-request-id"] = request_id
    return response


def _where(request: HttpRequest) -> tuple[str, str]:
    host = request.META.get("HTTP_HOST", "").split(":")[0]
    suffix = settings.OSS_HOST
    path = request.path.lstrip("/")
    if suffix and host.endswith("." + suffix):
        return host[: -len(suffix) - 1], path
    bucket, _, key = path.partition("/")
    return bucket, key


def handle(request: HttpRequest, request_id: str) -> HttpResponse:
    bucket, key = _where(request)
    try:
        access_key = signatures.oss(request, bucket, key)
    except signatures.AuthProblem as exc:
        status, code = AUTH_ERRORS[exc.kind]
        extra = {"StringToSign": exc.string_to_sign} if exc.string_to_sign else {}
        return error(request_id, status, code, exc.message, **extra)
    request.access_key = access_key  # type: ignore[attr-defined]
    access_key.touch()
    if not bucket or not key:
        return error(request_id, 400, "InvalidArgument", "only object operations are served (/<bucket>/<object>)")
    query = request.GET
    try:
        if SYNC in query:
            return error(request_id, 400, "InvalidArgument", "video/animation is only supported with "
                         "x-oss-async-process (asynchronous processing); x-oss-process is refused")
        if request.method == "POST" and ASYNC in query:
            return JsonResponse(async_process(request, bucket, key, request_id))
        if request.method == "PUT":
            return put_object(request, bucket, key, request_id)
        if request.method in ("GET", "HEAD"):
            return get_object(request, bucket, key, request_id)
        if request.method == "DELETE":
            return delete_object(request, bucket, key, request_id)
        return error(request_id, 405, "MethodNotAllowed", f"{request.method} is not served here")
    except LoopdeckError as exc:
        status, code = _ERRORS.get(exc.code, (400, "InvalidArgument"))
        if exc.code == ErrorCode.RESOURCE_NOT_FOUND:
            code = "NoSuchKey"
        return error(request_id, status, code, f"{exc.field}: {exc.message}" if exc.field and
                     not exc.message.startswith(f"{exc.field}:") else exc.message)


def _object(bucket: str, key: str) -> OssObject:
    found = OssObject.objects.select_related("video", "image").filter(bucket=bucket, key=key).first()
    if found is None:
        raise LoopdeckError(ErrorCode.RESOURCE_NOT_FOUND, f"The specified key does not exist: {key}")
    return found


def put_object(request: HttpRequest, bucket: str, key: str, request_id: str) -> HttpResponse:
    """A video into the library under bucket/key (the same size and probe checks as an upload)."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    name = key.rsplit("/", 1)[-1]
    upload = TemporaryUploadedFile(name, request.META.get("CONTENT_TYPE") or "application/octet-stream", length, None)
    digest = hashlib.md5()  # noqa: S324 - OSS's ETag is the MD5 of the object
    try:
        # The WSGI input, read once in chunks: the body never sits in memory whole.
        while chunk := request.read(1024 * 1024):
            if upload.file.tell() + len(chunk) > settings.MAX_UPLOAD_SIZE:
                raise LoopdeckError(ErrorCode.FILE_TOO_LARGE, "the object is larger than the upload limit", "file")
            upload.write(chunk)
            digest.update(chunk)
        upload.size = upload.file.tell()
        upload.seek(0)
        info = video_commands.check_upload(upload)
        with transaction.atomic():
            OssObject.objects.filter(bucket=bucket, key=key).delete()  # PutObject overwrites
            video = video_commands.create_video(upload, name, info=info)
            OssObject.objects.create(bucket=bucket, key=key, video=video)
    finally:
        upload.close()
    attribute(request, "video", video.public_id)
    response = HttpResponse(status=200)
    response["ETag"] = f'"{digest.hexdigest().upper()}"'
    response["x-oss-request-id"] = request_id
    return response


def _file(found: OssObject):  # noqa: ANN202
    """The stored file behind a name: the video as put, or a finished animated image."""
    if found.video is not None:
        return found.video.file
    image = found.image
    return image.file if image is not None and image.status == AnimatedImage.Status.SUCCESS else None


def get_object(request: HttpRequest, bucket: str, key: str, request_id: str) -> HttpResponse:
    found = _object(bucket, key)
    stored = _file(found)
    if not stored:
        # A saveas target whose render has not finished (or failed) does not exist yet, as in OSS.
        raise LoopdeckError(ErrorCode.RESOURCE_NOT_FOUND, f"The specified key does not exist: {key}")
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    if request.method == "HEAD":
        response: HttpResponse = HttpResponse(status=200, content_type=content_type)
        response["Content-Length"] = str(stored.size)
    else:
        response = FileResponse(stored.open("rb"), content_type=content_type)
    response["Last-Modified"] = formatdate(found.created_at.timestamp(), usegmt=True)
    response["ETag"] = f'"{found.image.md5.upper()}"' if found.image else f'"{found.pk}"'
    response["x-oss-request-id"] = request_id
    return response


def delete_object(request: HttpRequest, bucket: str, key: str, request_id: str) -> HttpResponse:
    """The name goes; a video put here is deleted from the library with it (as deleting it in the
    console would); an animated image stays with its video (only this name of it goes)."""
    found = OssObject.objects.select_related("video").filter(bucket=bucket, key=key).first()
    if found is not None:  # OSS answers 204 for a missing key too
        if found.video is not None:
            video_commands.delete_video(found.video)
            attribute(request, "video", found.video.public_id)
        found.delete()
    response = HttpResponse(status=204)
    response["x-oss-request-id"] = request_id
    return response


def _template_for(params: dict[str, Any], animation: str) -> AnimatedImageTemplate:
    """The custom template these parameters make, made once per distinct animation string (it
    shows in the console's template list, named after it)."""
    name = "OSS " + hashlib.sha1(animation.encode()).hexdigest()[:12]  # noqa: S324 - a name, not a secret
    existing = AnimatedImageTemplate.objects.filter(name=name).first()
    if existing is not None:
        return existing
    form = TemplateForm.with_changes(None, {"name": name, "comment": animation[:256], **params})
    try:
        return template_commands.save_template(form)
    except LoopdeckError as exc:
        if exc.code != ErrorCode.CONFLICT:
            raise
        return AnimatedImageTemplate.objects.get(name=name)  # made meanwhile by a concurrent request


def async_process(request: HttpRequest, bucket: str, key: str, request_id: str) -> dict[str, str]:
    body = request.body.decode("utf-8", "replace")
    text = body.split("=", 1)[1] if body.startswith(f"{ASYNC}=") else request.GET.get(ASYNC, "")
    process = process_string.parse(text)
    if not process.save_object:
        raise LoopdeckError(ErrorCode.MISSING_PARAMETER, "asynchronous processing needs sys/saveas,o_<base64>", "o")
    source = _object(bucket, key)
    if source.video is None:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, f"{key} is not a video", "object")
    template = _template_for(process.params, text.split("|", 1)[0])
    target_bucket = process.save_bucket or bucket
    target_key = process.save_object.replace("{autoext}", template.format)
    with transaction.atomic():
        task = task_commands.submit_task(source.video, [task_commands.StepRequest(template)],
                                         origin=Task.Origin.VENDOR, notify_topic=process.notify_topic)
        image = task.outputs.get()
        OssObject.objects.filter(bucket=target_bucket, key=target_key).delete()
        try:
            OssObject.objects.create(bucket=target_bucket, key=target_key, image=image)
        except IntegrityError as exc:
            raise LoopdeckError(ErrorCode.CONFLICT, f"{target_key} is being written", "o") from exc
    attribute(request, "task", task.task_id)
    return {"EventId": f"{uuid.uuid4().hex[:8]}-{task.task_id.hex[:24]}", "RequestId": request_id,
            "TaskId": str(task.task_id)}
