"""The RQ queues and how jobs are put on them. Enqueues wait for the transaction to commit, so
a worker never looks for a row that is not there yet.

The database is the record of the work, Redis only the means of handing it out: when Redis does
not answer at commit time, the enqueue is logged and dropped, and the reconciler queues the
committed work once Redis is back (within RECONCILE_INTERVAL). A request that has committed its
task or upload must not then fail with a 500 (and tempt the client to submit it twice)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import django_rq
from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

if TYPE_CHECKING:
    from media_jobs.models import AnimatedImage, Video

log = logging.getLogger(__name__)

ENCODE = "encode"
LIGHT = "light"
CALLBACKS = "callbacks"
ALL = (ENCODE, LIGHT, CALLBACKS)

# Transient failures (storage or database hiccups) retry after these many seconds; bad input
# fails at once and never reaches RQ's retry.
RETRY_INTERVALS = [10, 60]


def get_queue(name: str) -> Queue:
    return django_rq.get_queue(name)


def _after_commit(queue_name: str, method: str, *args: Any, **options: Any) -> None:
    """Call `queue.<method>(*args, **options)` once the transaction commits (at once outside one)."""
    def enqueue() -> None:
        try:
            getattr(get_queue(queue_name), method)(*args, **options)
        except RedisError as exc:
            log.warning("Redis unavailable, job %s not queued (the reconciler will queue it): %s",
                        options.get("job_id"), exc)

    transaction.on_commit(enqueue)


def enqueue_render(image_pk: int, job_id: str) -> None:
    _after_commit(
        ENCODE, "enqueue", "media_jobs.jobs.render.render_animated_image", image_pk,
        job_id=job_id, job_timeout=settings.RENDER_TIMEOUT + 120,
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        result_ttl=3600, failure_ttl=7 * 86400,
    )


def enqueue_prepare(video_pk: int, job_id: str) -> None:
    _after_commit(
        LIGHT, "enqueue", "media_jobs.jobs.prepare.prepare_video", video_pk,
        job_id=job_id, job_timeout=settings.PROBE_TIMEOUT * 3 + 60,
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        result_ttl=3600, failure_ttl=7 * 86400,
    )


def enqueue_proxy(video_pk: int, job_id: str) -> None:
    """The player's playable copy (media_jobs.jobs.proxy), after READY: renders come first on the
    encode queue, and a lost proxy job only means the player waits; nothing is retried."""
    _after_commit(
        ENCODE, "enqueue", "media_jobs.jobs.proxy.make_proxy", video_pk,
        job_id=job_id, job_timeout=settings.RENDER_TIMEOUT + 120, result_ttl=600, failure_ttl=86400,
    )


def enqueue_strip(video_pk: int, job_id: str) -> None:
    """The player's strip of thumbnails (media_jobs.jobs.strip), after READY; a lost job is queued
    again when the video's page is next shown."""
    _after_commit(
        LIGHT, "enqueue", "media_jobs.jobs.strip.make_strip", video_pk,
        job_id=job_id, job_timeout=settings.PROBE_TIMEOUT + 60, result_ttl=600, failure_ttl=3600,
    )


def strip_pending(job_id: str) -> bool:
    """Whether the strip job `job_id` is queued or running (Redis down: say it is, queue nothing)."""
    try:
        job = Job.fetch(job_id, connection=get_queue(LIGHT).connection)
    except NoSuchJobError:
        return False
    except RedisError:
        return True
    return job.get_status(refresh=False) in ("queued", "started", "deferred", "scheduled")


def enqueue_fetch(video_pk: int, url: str, job_id: str) -> None:
    _after_commit(
        LIGHT, "enqueue", "media_jobs.jobs.fetch.fetch_video", video_pk, url,
        job_id=job_id, job_timeout=int(settings.URL_DOWNLOAD_TOTAL_TIMEOUT + settings.PROBE_TIMEOUT + 120),
        result_ttl=3600, failure_ttl=7 * 86400,
    )


def delivery_job_timeout() -> int:
    """RQ's limit for one delivery: the request's own timeouts (connect, answer, excerpt) plus slack."""
    return int(settings.CALLBACK_TIMEOUT * 3) + 10


def enqueue_delivery(delivery_pk: int, job_id: str, at: datetime | None = None) -> None:
    """Queue a callback delivery after commit; with `at`, RQ's scheduler releases it then."""
    options = {"job_id": job_id, "job_timeout": delivery_job_timeout(), "result_ttl": 600, "failure_ttl": 86400}
    if at is None:
        _after_commit(CALLBACKS, "enqueue", "media_jobs.jobs.deliver.deliver", delivery_pk, **options)
    else:
        _after_commit(CALLBACKS, "enqueue_at", at, "media_jobs.jobs.deliver.deliver", delivery_pk, **options)


def enqueue_render_of(image: "AnimatedImage") -> str:
    """Queue a render of this image once the surrounding transaction commits."""
    from media_jobs.models import AnimatedImage

    job_id = f"render-{image.public_id}-{uuid.uuid4().hex[:8]}"
    AnimatedImage.objects.filter(pk=image.pk).update(rq_job_id=job_id)
    image.rq_job_id = job_id
    enqueue_render(image.pk, job_id)
    return job_id


def enqueue_prepare_of(video: "Video") -> str:
    """Queue probing and cover extraction once the surrounding transaction commits."""
    from media_jobs.models import Video

    job_id = f"prepare-{video.public_id}-{uuid.uuid4().hex[:8]}"
    Video.objects.filter(pk=video.pk).update(prepare_job_id=job_id)
    video.prepare_job_id = job_id
    enqueue_prepare(video.pk, job_id)
    return job_id


def cancel(job_ids: list[str]) -> None:
    """Take queued jobs off their queues (best effort: without Redis, a job that runs later finds
    its row final and does nothing)."""
    try:
        connection = get_queue(ENCODE).connection
        for job_id in job_ids:
            if job_id:
                try:
                    Job.fetch(job_id, connection=connection).cancel()
                except NoSuchJobError:
                    pass
    except RedisError as exc:
        log.warning("Redis unavailable, queued jobs %s not cancelled: %s", job_ids, exc)


def enqueue_fetch_of(video: "Video", url: str) -> str:
    """Queue the download of a video imported from a URL once the transaction commits. The
    reconciler watches prepare_job_id: while the download runs, the video is not "stuck"."""
    from media_jobs.models import Video

    job_id = f"fetch-{video.public_id}-{uuid.uuid4().hex[:8]}"
    Video.objects.filter(pk=video.pk).update(prepare_job_id=job_id)
    video.prepare_job_id = job_id
    enqueue_fetch(video.pk, url, job_id)
    return job_id
