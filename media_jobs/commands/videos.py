"""Videos: upload, import from a URL, rename, delete, set the cover; and failing a video whose
file cannot be used (the jobs' side of the same rules)."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from media_jobs import net
from media_jobs.commands.tasks import StepRequest, steps_for_workflow, submit_task
from media_jobs.encode import EncodeError, MediaInfo, probe_isolated
from media_jobs.errors import ErrorCode, LoopdeckError, from_encode
from media_jobs.jobs import queues
from media_jobs.models import AnimatedImage, Task, Video, Workflow

MAX_TITLE = 255


def clean_title(text: str, field: str = "title", required: bool = True) -> str:
    """A title as typed or taken from a file name, without the characters that can disguise it:
    controls (NUL included, which PostgreSQL cannot store) and invisible format characters such
    as the right-to-left override U+202E. Other whitespace becomes a plain space. The one title
    rule of upload, rename and import from a URL."""
    kept = "".join(c if c.isprintable() else (" " if c.isspace() else "") for c in text or "")
    title = " ".join(kept.split())
    if required and not title:
        raise LoopdeckError(ErrorCode.MISSING_PARAMETER, _("a title is required"), field)
    if len(title) > MAX_TITLE:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, _("the title is longer than %(n)s characters") % {"n": MAX_TITLE}, field)
    return title


def title_from_name(name: str) -> str:
    """A title for a file that came without one: its name without the extension."""
    return clean_title(Path(name).stem, required=False)[:MAX_TITLE] or "Untitled"


def check_upload(upload: UploadedFile) -> MediaInfo:
    """An upload's size against the limit, then a probe of the file where it lies, so a file that
    is not a usable video is refused before anything is stored (FileTooLarge, InvalidVideoFormat,
    NoVideoStream, EmptyFile, ...), with `file` as the field."""
    if upload.size and upload.size > settings.MAX_UPLOAD_SIZE:
        raise LoopdeckError(ErrorCode.FILE_TOO_LARGE,
                            _("the file is larger than the %(n)s MiB limit") % {"n": settings.MAX_UPLOAD_SIZE // (1024 * 1024)},
                            "file")
    try:
        return probe_upload(upload)
    except EncodeError as exc:
        raise from_encode(exc, "file") from exc


def probe_upload(upload: UploadedFile) -> MediaInfo:
    """Probe an uploaded file where it lies (Django spools large uploads to a temporary file)."""
    if hasattr(upload, "temporary_file_path"):
        return probe_isolated(upload.temporary_file_path(), timeout=settings.PROBE_TIMEOUT)
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name or "").suffix[:8]) as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        upload.seek(0)
        return probe_isolated(tmp.name, timeout=settings.PROBE_TIMEOUT)



@transaction.atomic
def create_video(upload: File, title: str | None, workflow: Workflow | None = None,
                 info: MediaInfo | None = None, origin: str = Task.Origin.UPLOAD) -> Video:
    """Store an uploaded original and queue its preparation (cover, then the workflow's task).

    `info` is the probe the upload form already made; without it the prepare job probes."""
    name = upload.name or "upload"
    title = clean_title(title) if title and title.strip() else title_from_name(name)
    video = Video(title=title, original_filename=name[:255], size=upload.size or 0, workflow=workflow)
    if info is not None:
        video.apply_probe(info)
    video.file.save(name, upload, save=False)
    video.save()
    if workflow is not None:
        submit_task(video, steps_for_workflow(workflow), origin=origin, workflow=workflow, check_range=False,
                    field="workflow_id")
    queues.enqueue_prepare_of(video)
    return video


def url_file_name(url: str) -> str:
    return PurePosixPath(unquote(urlsplit(url).path)).name[:255]


@transaction.atomic
@transaction.atomic
def import_from_url(url: str, title: str | None, workflow: Workflow | None,
                    steps: list[StepRequest] | None = None, origin: str = Task.Origin.UPLOAD) -> Video:
    """Create the PROCESSING video (and its workflow task, or a task of `steps`) and queue the
    download after commit. The address rules of media_jobs.net apply now and again when the job
    connects."""
    try:
        net.check_url(url)
    except LoopdeckError as exc:
        exc.field = exc.field or "url"
        raise
    name = url_file_name(url)
    title = clean_title(title) if title and title.strip() else title_from_name(name)
    video = Video.objects.create(title=title, original_filename=name, workflow=workflow)
    if workflow is not None:
        submit_task(video, steps_for_workflow(workflow), origin=Task.Origin.UPLOAD, workflow=workflow,
                    check_range=False, field="workflow_id")
    elif steps:
        submit_task(video, steps, origin=origin, check_range=False)
    queues.enqueue_fetch_of(video, url.strip())
    return video


def rename_video(video: Video, title: str) -> Video:
    video.title = clean_title(title)
    video.save(update_fields=["title", "updated_at"])
    return video


def delete_video(video: Video) -> None:
    """Delete a video, its original, its cover and its animated images (files go after commit)."""
    video.delete()


@transaction.atomic
def set_cover(video: Video, image: AnimatedImage | None) -> None:
    """Make a finished animated image of this video its cover, or restore the static cover with None."""
    if image is not None and image.video_id != video.pk:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, _("the animated image belongs to another video"),
                            "animated_image_id")
    if image is not None and image.status != AnimatedImage.Status.SUCCESS:
        raise LoopdeckError(ErrorCode.CONFLICT, _("the animated image is %(status)s; only a finished one can be the cover")
                            % {"status": image.status}, "animated_image_id")
    video.set_cover(image)


@transaction.atomic
def fail_video(video: Video, code: str, message: str) -> None:
    """The file cannot be used: fail it and every output still waiting on it, with one error."""
    video.mark_failed(code, message)
    waiting = list(AnimatedImage.objects.filter(video=video, status=AnimatedImage.Status.WAITING).select_related("task"))
    for image in waiting:
        image.record_failure(code, message)
    for task in {image.task for image in waiting}:
        task.refresh_status()
