"""A worker killed between taking a render from the queue and claiming its row: the job is
STARTED in RQ and the row still WAITING, with no heartbeat of ours to go stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files import File
from django.utils import timezone
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from media_jobs.commands import tasks as task_commands

from media_jobs.commands import videos as video_commands
from media_jobs.jobs import queues
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Video
from media_jobs.jobs.reconcile import reconcile

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_render_taken_by_a_worker_that_died_before_claiming_it_runs_again(small_clip, run_worker, fast_reconcile,
                                                                           redis_conn):
    with small_clip.open("rb") as handle:
        video = video_commands.create_video(File(handle, name="clip.mp4"), "clip")
    run_worker()
    template = AnimatedImageTemplate.objects.get(definition=20002)
    image = task_commands.submit_task(Video.objects.get(pk=video.pk), [task_commands.StepRequest(template)]).outputs.get()

    # A worker takes the job and is SIGKILLed before the job starts running: nothing else happens.
    queue = queues.get_queue(queues.ENCODE)
    job, _ = Queue.dequeue_any([queue], None, connection=redis_conn)
    dead = Worker([queue], connection=redis_conn)
    dead.prepare_execution(job)
    dead.prepare_job_execution(job)
    assert job.get_status() == JobStatus.STARTED and queue.count == 0
    # RQ's heartbeat for it lapses (90 s after the kill by default).
    registry = StartedJobRegistry(queue=queue)
    redis_conn.zadd(registry.key, {member: 1 for member in redis_conn.zrange(registry.key, 0, -1)})
    AnimatedImage.objects.filter(pk=image.pk).update(created_at=timezone.now() - timedelta(seconds=5))

    report = reconcile()

    # RQ retries the job (after its first retry interval) or we queue it again: it will run.
    status = Job.fetch(job.id, connection=redis_conn).get_status()
    assert status in (JobStatus.QUEUED, JobStatus.SCHEDULED) or report.requeued == [image.pk], status
    image.refresh_from_db()
    assert image.status == AnimatedImage.Status.WAITING
