"""The player's strip of thumbnails (media_jobs.encode.strip): one small JPEG per video, so the
video page's browser neither downloads nor decodes the original to draw it.

Made by its own job once the video is READY (renders never wait for it), stored beside the
original, and described on the video (`Video.strip`: the stored name, the tile size and the time
each tile shows). A video made READY before strips existed gets one when its page is first shown.
A strip that cannot be made is recorded as such, so the page shows none and asks no more.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import close_old_connections

from media_jobs.encode import EncodeError
from media_jobs.encode.strip import thumbnail_strip
from media_jobs.jobs import queues, scratch
from media_jobs.jobs.common import local_copy
from media_jobs.models import Video
from media_jobs.models.videos import strip_name

log = logging.getLogger(__name__)

# Shown 54 CSS pixels tall: sharp on screens with two device pixels to one.
STRIP_HEIGHT = 108


def job_id_for(video: Video) -> str:
    return f"strip-{video.public_id}"


def request_strip(video: Video) -> None:
    """Queue the strip of a READY video that has none (nor a failed attempt), unless queued."""
    if video.status == Video.Status.READY and not video.strip and not queues.strip_pending(job_id_for(video)):
        queues.enqueue_strip(video.pk, job_id_for(video))


def make_strip(video_pk: int) -> str:
    """The job: make the strip in an isolated child (hostile files stay in the sandbox), store it,
    record it. A storage or database hiccup raises (RQ records the failure; the next page view
    queues the job again); a file the strip cannot be made from is recorded and not tried again."""
    from media_jobs.encode import run_isolated

    close_old_connections()
    video = Video.objects.filter(pk=video_pk, status=Video.Status.READY).first()
    if video is None or video.strip:
        return "not needed"
    try:
        with scratch.scratch_folder("loopdeck-strip-") as tmp, local_copy(video.file, tmp) as source:
            out = Path(tmp) / "strip.jpg"
            strip = run_isolated(thumbnail_strip, source, out, STRIP_HEIGHT, timeout=settings.PROBE_TIMEOUT,
                                 memory_limit_mb=settings.RENDER_MEMORY_LIMIT_MB)
            with out.open("rb") as handle:
                name = default_storage.save(strip_name(video), File(handle))
    except EncodeError as exc:
        log.warning("no thumbnail strip for video %s: %s", video.pk, exc)
        Video.objects.filter(pk=video.pk, strip={}).update(strip={"error": str(exc.code), "message": exc.message})
        return "failed"
    record = {"name": name, "tile_width": strip.tile_width, "tile_height": strip.tile_height,
              "times": list(strip.times)}
    if not Video.objects.filter(pk=video.pk, strip={}).update(strip=record):
        default_storage.delete(name)  # another run recorded one first, or the video is gone
        return "not needed"
    return "made"
