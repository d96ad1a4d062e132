"""The prepare job: probe a new video (unless the upload form did), store its static cover, mark
it READY, then queue the renders waiting for it and the player's playable copy and thumbnails."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import close_old_connections, transaction

from media_jobs.commands import videos as video_commands
from media_jobs.encode import EncodeError, probe_isolated, snapshot_isolated
from media_jobs.errors import ErrorCode
from media_jobs.jobs import queues, scratch
from media_jobs.jobs.common import current_job_id, local_copy
from media_jobs.jobs.strip import job_id_for as strip_job_id
from media_jobs.models import AnimatedImage, Video


def prepare_video(video_pk: int) -> str:
    """Probe a new video (unless the upload form did), store its static cover, mark it READY,
    then queue the renders of any task waiting for it. A file we cannot use fails the video and
    every output waiting on it with the same named error."""
    close_old_connections()
    job_id, retries_left = current_job_id("prepare")
    video = Video.objects.filter(pk=video_pk).first()
    if video is None or video.status != Video.Status.PROCESSING:
        return "skipped"
    Video.objects.filter(pk=video.pk).update(prepare_attempts=video.prepare_attempts + 1)
    if not video.file:
        # Only an import from a URL has no file yet; the reconciler sends it here once its
        # download job is gone (lost with Redis, or its worker died).
        video_commands.fail_video(video, ErrorCode.DOWNLOAD_FAILED,
                            "the download from the URL was interrupted before it finished; import it again")
        return Video.Status.FAILED
    try:
        with scratch.scratch_folder("loopdeck-prepare-") as tmp, local_copy(video.file, tmp) as source:
            if not video.metadata:
                video.apply_probe(probe_isolated(source, timeout=settings.PROBE_TIMEOUT))
            cover = Path(tmp) / "cover.jpg"
            snapshot_isolated(source, cover, timeout=settings.PROBE_TIMEOUT)
            with cover.open("rb") as handle:
                video.cover_image.save("cover.jpg", File(handle), save=False)
    except EncodeError as exc:
        if exc.permanent or retries_left == 0:
            video_commands.fail_video(video, exc.code, exc.message)
            return video.status
        raise
    except Exception as exc:  # noqa: BLE001 - transient until retries run out
        if retries_left == 0:
            video_commands.fail_video(video, ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
            return video.status
        raise
    with transaction.atomic():
        video.mark_ready()
        for image in AnimatedImage.objects.filter(video=video, status=AnimatedImage.Status.WAITING):
            queues.enqueue_render_of(image)
        queues.enqueue_proxy(video.pk, f"proxy-{video.public_id}")  # after READY and the renders; never holds READY back
        queues.enqueue_strip(video.pk, strip_job_id(video))
    return video.status
