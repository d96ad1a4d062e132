"""The download job of a video created from a URL (Alibaba `CreateGifTask`'s `VideoUrl`): the
address rules of `media_jobs.net` apply again at connect time and on each redirect; the file is
probed, stored and handed over to the prepare job. A URL that cannot be fetched or is not a
usable video fails the video, and any workflow outputs waiting on it, with a named error."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import close_old_connections, transaction

from media_jobs import net

from media_jobs.commands import videos as video_commands

from media_jobs.jobs import queues
from media_jobs.encode import EncodeError, probe_isolated
from media_jobs.errors import ErrorCode
from media_jobs.errors import LoopdeckError
from media_jobs.jobs import scratch
from media_jobs.models import Video
from media_jobs.models.videos import safe_extension

log = logging.getLogger(__name__)


def fetch_video(video_pk: int, url: str) -> str:
    """Download, probe and store the video, then queue its preparation. Returns its status."""
    close_old_connections()
    video = Video.objects.filter(pk=video_pk).first()
    if video is None or video.status != Video.Status.PROCESSING or video.file:
        return "skipped"
    with scratch.scratch_folder("loopdeck-fetch-") as tmp:
        dest = Path(tmp) / f"source{safe_extension(video.original_filename)}"
        try:
            net.download(url, dest, settings.MAX_UPLOAD_SIZE, timeout=settings.URL_DOWNLOAD_TIMEOUT,
                         total_timeout=settings.URL_DOWNLOAD_TOTAL_TIMEOUT)
            info = probe_isolated(dest, timeout=settings.PROBE_TIMEOUT)
            with dest.open("rb") as handle:
                video.file.save(video.original_filename or dest.name, File(handle), save=False)
        except (EncodeError, LoopdeckError) as exc:
            video_commands.fail_video(video, exc.code, exc.message)
            return Video.Status.FAILED
        except Exception as exc:  # noqa: BLE001 - anything else is ours, reported on the video
            log.exception("fetching video %s from its URL failed", video.pk)
            video_commands.fail_video(video, ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
            return Video.Status.FAILED
    with transaction.atomic():
        video.apply_probe(info)
        video.size = info.size
        video.save(update_fields=["file", "size", "metadata", "container", "duration", "width", "height",
                                  "rotate", "bitrate", "updated_at"])
        queues.enqueue_prepare_of(video)
    return Video.Status.PROCESSING
