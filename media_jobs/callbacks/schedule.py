"""When deliveries run: the retry schedule, Retry-After, redelivery, and the reconciler's step
that re-sends deliveries whose RQ job was lost and purges old events.

The database is the source of truth: a PENDING delivery is due at `next_attempt_at`. RQ's
scheduler normally releases the job at that time; if Redis lost it, or the worker died while
sending (its lease ran out), the reconciler queues it again. Sending twice is possible (the
receiver answered but we died before writing that down); receivers de-duplicate by event id.
"""

from __future__ import annotations

import email.utils
import logging
import math
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from media_jobs.jobs import queues
from media_jobs.models import Delivery, DeliveryAttempt, Event, Subscription

log = logging.getLogger(__name__)

# A job in one of these states will still run. A SCHEDULED job counts only until its time has
# clearly passed: then the scheduler is missing and the reconciler releases the delivery itself.
_ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED}


def retry_schedule() -> list[float]:
    return list(settings.CALLBACK_RETRY_SCHEDULE)


def lease_seconds() -> float:
    """How long a worker holds a delivery while sending: past RQ's own limit for the job."""
    return queues.delivery_job_timeout() + 5


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from now that a `Retry-After` header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def next_delay(retry_index: int, retry_after: float | None) -> float | None:
    """Seconds until the next attempt after `retry_index` failures in a row, or None when the
    schedule is exhausted. A receiver's Retry-After postpones it, up to CALLBACK_RETRY_AFTER_MAX."""
    schedule = retry_schedule()
    if retry_index > len(schedule):
        return None
    delay = schedule[retry_index - 1]
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.CALLBACK_RETRY_AFTER_MAX))
    return delay


def enqueue(delivery: Delivery, at: datetime | None = None) -> str:
    """Queue the delivery's job after commit (at `at` through RQ's scheduler when given)."""
    job_id = f"deliver-{delivery.public_id}-{uuid.uuid4().hex[:8]}"
    Delivery.objects.filter(pk=delivery.pk).update(rq_job_id=job_id)
    delivery.rq_job_id = job_id
    queues.enqueue_delivery(delivery.pk, job_id, at if at and at > timezone.now() else None)
    return job_id


@transaction.atomic
def redeliver(delivery: Delivery) -> None:
    """Send the event again now, with a fresh retry schedule; the attempt log is kept."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PENDING, retry_index=0, next_attempt_at=timezone.now(), lease_until=None,
        failure_reason="", finished_at=None,
    )
    delivery.refresh_from_db()
    enqueue(delivery)


@transaction.atomic
def redeliver_failed(subscription: Subscription) -> int:
    """Redeliver every FAILED delivery of a subscription. Returns how many."""
    failed = list(subscription.deliveries.filter(status=Delivery.Status.FAILED))
    for delivery in failed:
        redeliver(delivery)
    return len(failed)


def _job_alive(job_id: str, due: datetime | None, now: datetime) -> bool:
    if not job_id:
        return False
    try:
        status = Job.fetch(job_id, connection=queues.get_queue(queues.CALLBACKS).connection).get_status(refresh=False)
    except NoSuchJobError:
        return False
    if status == JobStatus.SCHEDULED:
        return due is None or due > now - timedelta(seconds=settings.RECONCILE_INTERVAL)
    return status in _ALIVE


def requeue_lost(now: datetime | None = None, limit: int = 500) -> list[int]:
    """The reconciler's step: queue due deliveries nobody is working on. Returns their ids.

    A delivery is left alone while a worker's lease on it holds, or while its job is still
    queued. An expired lease means the worker died mid-send: its IN_FLIGHT attempt is marked
    INTERRUPTED (the receiver may have got it) and the delivery is sent again.
    """
    now = now or timezone.now()
    settled = now - timedelta(seconds=settings.RECONCILE_INTERVAL)
    # A fresh enqueue gets RECONCILE_INTERVAL to reach Redis; an expired lease needs no grace.
    due = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now).filter(
        Q(lease_until__isnull=True, next_attempt_at__lte=settled) | Q(lease_until__lt=now)
    ).order_by("next_attempt_at")[:limit]
    requeued = []
    for delivery in due:
        if delivery.lease_until is None and _job_alive(delivery.rq_job_id, delivery.next_attempt_at, now):
            continue
        with transaction.atomic():
            DeliveryAttempt.objects.filter(delivery=delivery, outcome=DeliveryAttempt.Outcome.IN_FLIGHT).update(
                outcome=DeliveryAttempt.Outcome.INTERRUPTED,
                error="the worker stopped before recording the answer; the receiver may have got this attempt",
            )
            changed = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING,
                                              lease_until=delivery.lease_until).update(lease_until=None)
            if changed:
                enqueue(delivery)
                requeued.append(delivery.pk)
    return requeued


def purge_old_events(now: datetime | None = None) -> int:
    """Delete events older than EVENT_RETENTION_DAYS (with their delivery logs), except those
    with a delivery still pending. Returns how many went."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.EVENT_RETENTION_DAYS)
    old = Event.objects.filter(created_at__lt=cutoff).exclude(deliveries__status=Delivery.Status.PENDING)
    ids = list(old.values_list("pk", flat=True)[:5000])
    if ids:
        Event.objects.filter(pk__in=ids).delete()
    return len(ids)


def schedule_summary() -> str:
    """The schedule in words, for the console: '10 s, 30 s, 2 min, … (about 47 h in all)'."""
    schedule = retry_schedule()
    total = sum(schedule)
    return f"{', '.join(_human(s) for s in schedule)} (about {math.ceil(total / 3600)} h in all)"


def _human(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"
