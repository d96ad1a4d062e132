"""The RQ queues and how jobs are put on them. Enqueues wait for the transaction to commit
(django-rq's `on_db_commit` mode), so a worker never looks for a row that is not there yet."""

from __future__ import annotations

from datetime import datetime

import django_rq
from django.conf import settings
from django.db import transaction
from rq import Queue, Retry

ENCODE = "encode"
LIGHT = "light"
CALLBACKS = "callbacks"
ALL = (ENCODE, LIGHT, CALLBACKS)

# Transient failures (storage or database hiccups) retry after these many seconds; bad input
# fails at once and never reaches RQ's retry.
RETRY_INTERVALS = [10, 60]


def get_queue(name: str) -> Queue:
    return django_rq.get_queue(name)


def enqueue_render(image_pk: int, job_id: str) -> None:
    get_queue(ENCODE).enqueue(
        "media_jobs.jobs.render_animated_image", image_pk,
        job_id=job_id, job_timeout=settings.RENDER_TIMEOUT + 120,
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        result_ttl=3600, failure_ttl=7 * 86400,
    )


def enqueue_prepare(video_pk: int, job_id: str) -> None:
    get_queue(LIGHT).enqueue(
        "media_jobs.jobs.prepare_video", video_pk,
        job_id=job_id, job_timeout=settings.PROBE_TIMEOUT * 3 + 60,
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        result_ttl=3600, failure_ttl=7 * 86400,
    )


def delivery_job_timeout() -> int:
    """RQ's limit for one delivery: the request's own timeouts (connect, answer, excerpt) plus slack."""
    return int(settings.CALLBACK_TIMEOUT * 3) + 10


def enqueue_delivery(delivery_pk: int, job_id: str, at: datetime | None = None) -> None:
    """Queue a callback delivery after commit; with `at`, RQ's scheduler releases it then."""
    queue = get_queue(CALLBACKS)
    options = {"job_id": job_id, "job_timeout": delivery_job_timeout(), "result_ttl": 600, "failure_ttl": 86400}
    if at is None:
        queue.enqueue("media_jobs.callbacks.delivery.deliver", delivery_pk, **options)
    else:
        # enqueue_at bypasses django-rq's commit mode, so defer it by hand.
        transaction.on_commit(lambda: queue.enqueue_at(at, "media_jobs.callbacks.delivery.deliver",
                                                       delivery_pk, **options))
