"""Videos created from a URL the server downloads (Alibaba `CreateGifTask`'s `VideoUrl`).

The API checks the URL at once and answers with a PROCESSING video; a job on the light queue
downloads it (the address rules of `media_jobs.net` apply again at connect time and on each
redirect), probes it, stores it and hands over to the usual preparation job. A URL that cannot
be fetched or is not a usable video fails the video, and any workflow outputs waiting on it,
with a named error.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files import File
from django.db import close_old_connections, transaction

from media_jobs import net, queues, services
from media_jobs.encode import EncodeError, ErrorCode, probe_isolated
from media_jobs.models import Task, Video, Workflow
from media_jobs.models.videos import safe_extension

log = logging.getLogger(__name__)


def file_name(url: str) -> str:
    return PurePosixPath(unquote(urlsplit(url).path)).name[:255]


@transaction.atomic
def start_import(url: str, title: str | None, workflow: Workflow | None) -> Video:
    """Create the PROCESSING video (and its workflow task) and queue the download after commit."""
    net.check_url(url)
    name = file_name(url)
    video = Video.objects.create(title=((title or "").strip() or Path(name).stem or "Untitled")[:255],
                                 original_filename=name, workflow=workflow)
    if workflow is not None:
        services.submit_task(video, services.steps_for_workflow(workflow), origin=Task.Origin.UPLOAD,
                             workflow=workflow, check_range=False)
    job_id = f"fetch-{video.public_id}-{uuid.uuid4().hex[:8]}"
    # The reconciler watches prepare_job_id: while the download runs, the video is not "stuck".
    Video.objects.filter(pk=video.pk).update(prepare_job_id=job_id)
    video.prepare_job_id = job_id
    queues.enqueue_fetch(video.pk, url.strip(), job_id)
    return video


def fetch_video(video_pk: int, url: str) -> str:
    """Download, probe and store the video, then queue its preparation. Returns its status."""
    close_old_connections()
    video = Video.objects.filter(pk=video_pk).first()
    if video is None or video.status != Video.Status.PROCESSING or video.file:
        return "skipped"
    with tempfile.TemporaryDirectory(prefix="loopdeck-fetch-") as tmp:
        dest = Path(tmp) / f"source{safe_extension(video.original_filename)}"
        try:
            net.download(url, dest, settings.MAX_UPLOAD_SIZE, timeout=settings.URL_DOWNLOAD_TIMEOUT,
                         total_timeout=settings.URL_DOWNLOAD_TOTAL_TIMEOUT)
            info = probe_isolated(dest, timeout=settings.PROBE_TIMEOUT)
            with dest.open("rb") as handle:
                video.file.save(video.original_filename or dest.name, File(handle), save=False)
        except EncodeError as exc:
            services.fail_video(video, exc.code, exc.message)
            return Video.Status.FAILED
        except Exception as exc:  # noqa: BLE001 - anything else is ours, reported on the video
            log.exception("fetching video %s from its URL failed", video.pk)
            services.fail_video(video, ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
            return Video.Status.FAILED
    with transaction.atomic():
        video.apply_probe(info)
        video.size = info.size
        video.save(update_fields=["file", "size", "metadata", "container", "duration", "width", "height",
                                  "rotate", "bitrate", "updated_at"])
        services.enqueue_prepare(video)
    return Video.Status.PROCESSING
