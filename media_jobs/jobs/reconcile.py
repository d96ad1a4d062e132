"""The reconciler: finds work that a dead worker or a lost queue left behind and re-queues or
fails it, so nothing stays WAITING or PROCESSING for ever.

Bound: a render whose worker died (SIGKILL, out of memory, machine loss) stops heartbeating; it
is re-queued at most HEARTBEAT_STALE_AFTER + RECONCILE_INTERVAL seconds later (40 s by default),
and failed with WorkerLost once it has been lost MAX_RENDER_ATTEMPTS times. The passes are not
only every RECONCILE_INTERVAL: the next one comes as soon as a running render's last heartbeat
turns stale (`seconds_to_next_pass`), so the re-queue follows HEARTBEAT_STALE_AFTER closely and
the bound holds with most of RECONCILE_INTERVAL to spare. Every pass also
removes the scratch folders of killed jobs on the machine it runs on (`scratch.sweep`).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from redis.exceptions import LockError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from media_jobs.commands import videos as video_commands
from media_jobs.jobs import queues, scratch
from media_jobs.callbacks import schedule as callback_schedule
from media_jobs.errors import ErrorCode
from media_jobs.models import AnimatedImage, Task, Video

log = logging.getLogger(__name__)

LOCK_NAME = "loopdeck:reconcile"
# The pass lock is a lease renewed before each step: a reconciler killed mid-pass (SIGKILL, out
# of memory, a deploy) holds it at most this long, instead of stopping every other reconciler's
# re-queues for minutes. A step that outlives the lease lets a second pass overlap, which is safe
# (every change re-reads its row under select_for_update) but wasteful.
LOCK_LEASE_SECONDS = 10
# Jobs in these states will still run; anything else (missing, failed, stopped) will not.
_ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


@dataclass
class Report:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    videos_requeued: list[int] = field(default_factory=list)
    videos_failed: list[int] = field(default_factory=list)
    tasks_finished: list[int] = field(default_factory=list)
    deliveries_requeued: list[int] = field(default_factory=list)
    events_purged: int = 0
    scratch_removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.requeued, self.failed, self.videos_requeued, self.videos_failed, self.tasks_finished,
                    self.deliveries_requeued, self.events_purged, self.scratch_removed))


def _job_alive(job_id: str) -> bool:
    if not job_id:
        return False
    connection = queues.get_queue(queues.ENCODE).connection
    try:
        status = Job.fetch(job_id, connection=connection).get_status(refresh=False)
    except NoSuchJobError:
        return False
    return status in _ALIVE


def reconcile() -> Report:
    """One pass. Safe to run from several processes: a Redis lock lets one through at a time.
    The temp folder is this machine's own, so its sweep runs whoever holds the lock."""
    removed = scratch.sweep()
    connection = queues.get_queue(queues.ENCODE).connection
    lock = connection.lock(LOCK_NAME, timeout=LOCK_LEASE_SECONDS, blocking=False)
    if not lock.acquire():
        if removed:
            log.info("reconciler: removed %s", removed)
        return Report(scratch_removed=removed)
    report = Report(scratch_removed=removed)
    try:
        for step in _STEPS:
            lock.reacquire()
            step(report)
    finally:
        if report:
            log.info("reconciler: %s", report)
        with suppress(LockError):  # the lease ran out during the last step: nothing to release
            lock.release()
    return report


def _abandoned_jobs(report: Report) -> None:
    """A worker killed after taking a job but before the job claimed its row (no heartbeat of
    ours yet) leaves the job STARTED in RQ, which _job_alive trusts; RQ's own workers sweep such
    jobs only every 15 minutes. Sweep them here: once RQ's heartbeat lapses (its job monitoring
    interval + 60 s, 90 s by default) RQ retries the job or fails it, and a failed one is
    re-queued below like any lost job."""
    for name in queues.ALL:
        StartedJobRegistry(queue=queues.get_queue(name)).cleanup()


# A pass meant for the moment a heartbeat turns stale comes this much later, so that the
# heartbeat is older than HEARTBEAT_STALE_AFTER by then.
STALE_SLACK = 0.05


def seconds_to_next_pass() -> float:
    """RECONCILE_INTERVAL, or less: until the oldest heartbeat of a running render turns stale."""
    interval = float(settings.RECONCILE_INTERVAL)
    stale_after = timedelta(seconds=settings.HEARTBEAT_STALE_AFTER)
    now = timezone.now()
    oldest = AnimatedImage.objects.filter(
        status=AnimatedImage.Status.PROCESSING, heartbeat_at__gte=now - stale_after,
    ).aggregate(oldest=Min("heartbeat_at"))["oldest"]
    if oldest is None:
        return interval
    due = (oldest + stale_after - now).total_seconds() + STALE_SLACK
    return min(interval, max(STALE_SLACK, due))


def _lost_renders(report: Report) -> None:
    stale = timezone.now() - timedelta(seconds=settings.HEARTBEAT_STALE_AFTER)
    for image in AnimatedImage.objects.filter(status=AnimatedImage.Status.PROCESSING, heartbeat_at__lt=stale):
        _requeue_or_fail(image, report, "its worker stopped responding")


def _orphaned_waiting(report: Report) -> None:
    # Give a fresh enqueue time to reach Redis (it happens just after the commit).
    settled = timezone.now() - timedelta(seconds=settings.RECONCILE_INTERVAL)
    waiting = AnimatedImage.objects.filter(
        status=AnimatedImage.Status.WAITING, video__status=Video.Status.READY, created_at__lt=settled,
    ).exclude(task__status=Task.Status.ABORTED)
    for image in waiting:
        if not _job_alive(image.rq_job_id):
            _requeue_or_fail(image, report, "its queued job was lost")


def _requeue_or_fail(image: AnimatedImage, report: Report, why: str) -> None:
    with transaction.atomic():
        # Re-read under lock: the worker may have finished between the query and now.
        image = AnimatedImage.objects.select_for_update().select_related("task").get(pk=image.pk)
        if image.is_final:
            return
        if image.status == AnimatedImage.Status.PROCESSING:
            stale = timezone.now() - timedelta(seconds=settings.HEARTBEAT_STALE_AFTER)
            if image.heartbeat_at and image.heartbeat_at >= stale:
                return
        if image.attempts >= settings.MAX_RENDER_ATTEMPTS:
            image.record_failure(ErrorCode.WORKER_LOST, f"{why}; gave up after {image.attempts} attempts")
            report.failed.append(image.pk)
        else:
            AnimatedImage.objects.filter(pk=image.pk).update(status=AnimatedImage.Status.WAITING, progress=0)
            queues.enqueue_render_of(image)
            report.requeued.append(image.pk)
    image.task.refresh_status()


def _stuck_videos(report: Report) -> None:
    settled = timezone.now() - timedelta(seconds=settings.RECONCILE_INTERVAL)
    for video in Video.objects.filter(status=Video.Status.PROCESSING, updated_at__lt=settled):
        if _job_alive(video.prepare_job_id):
            continue
        with transaction.atomic():
            video = Video.objects.select_for_update().get(pk=video.pk)
            if video.status != Video.Status.PROCESSING:
                continue
            if video.prepare_attempts >= settings.MAX_RENDER_ATTEMPTS:
                video_commands.fail_video(video, ErrorCode.WORKER_LOST, "preparing the video failed repeatedly")
                report.videos_failed.append(video.pk)
            else:
                queues.enqueue_prepare_of(video)
                report.videos_requeued.append(video.pk)


def _unfinished_tasks(report: Report) -> None:
    open_tasks = Task.objects.filter(status__in=[Task.Status.WAITING, Task.Status.PROCESSING]).exclude(
        outputs__status__in=[AnimatedImage.Status.WAITING, AnimatedImage.Status.PROCESSING]
    )
    for task in open_tasks:
        if task.refresh_status():
            report.tasks_finished.append(task.pk)


def _callback_deliveries(report: Report) -> None:
    """Re-send due callback deliveries whose job was lost or whose worker died; purge old events."""
    report.deliveries_requeued = callback_schedule.requeue_lost()
    report.events_purged = callback_schedule.purge_old_events()


_STEPS = (_abandoned_jobs, _lost_renders, _orphaned_waiting, _stuck_videos, _unfinished_tasks,
          _callback_deliveries)
