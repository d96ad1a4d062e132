"""Redis restarted mid-run, empty: every queued job and RQ's own records are gone while renders
run. The database is the record of the work: the reconciler re-queues what Redis lost, the
workers carry on (or the run command's supervisor restarts them), and every task finishes."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from tests.workers import BurstWorker

from media_jobs.commands import tasks as task_commands
from media_jobs.jobs import queues
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video
from tests.hardening.conftest import assert_nothing_lost, open_count, poll, ready_video

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TASKS = 8


@pytest.fixture
def run_worker(private_redis):
    """The in-process worker, on the private Redis."""
    def drain() -> bool:
        worker = BurstWorker([queues.get_queue(name) for name in queues.ALL], connection=private_redis.client())
        return worker.work(burst=True, with_scheduler=False)

    return drain


def test_every_task_finishes_after_redis_restarts_empty_mid_run(private_redis, slow_clip, run_worker, supervised,
                                                               media_root):
    video = ready_video(slow_clip, run_worker, "redis restart")
    template = AnimatedImageTemplate.objects.create(name="half second", format="gif", fps=15, duration=8,
                                                    palette_mode="per_frame")
    tasks = [task_commands.submit_task(video, [task_commands.StepRequest(template)]) for _ in range(TASKS)]
    pks = [t.pk for t in tasks]
    run = supervised(workers=2, REDIS_URL=private_redis.url)

    def done() -> int:
        return AnimatedImage.objects.filter(task__in=pks, status=AnimatedImage.Status.SUCCESS).count()

    poll(lambda: done() >= 2 and AnimatedImage.objects.filter(
        task__in=pks, status=AnimatedImage.Status.PROCESSING).exists(), 60, "renders under way", run)
    in_flight = AnimatedImage.objects.filter(task__in=pks, status=AnimatedImage.Status.PROCESSING).count()
    queued = AnimatedImage.objects.filter(task__in=pks, status=AnimatedImage.Status.WAITING).count()
    assert queued, "the crash should find jobs still on the queue"

    private_redis.crash()
    crashed = time.monotonic()
    time.sleep(1.0)
    private_redis.start()  # empty: no persistence
    finished_after = poll(lambda: open_count(pks) == 0, 90, "every task to finish after the restart", run)
    print(f"\nRedis restarted empty with {in_flight} renders running and {queued} queued: every task FINISH "
          f"{finished_after + 1:.1f} s after the crash")
    assert_nothing_lost(tasks, media_root)
    assert Task.objects.filter(pk__in=pks, status=Task.Status.FINISH).count() == TASKS
    assert time.monotonic() - crashed < 60


def test_work_submitted_while_redis_is_down_is_accepted_and_done_once_it_is_back(
    private_redis, slow_clip, tiny_clip, run_worker, supervised, admin_client, media_root
):
    video = ready_video(slow_clip, run_worker, "submitted during the outage")
    template = AnimatedImageTemplate.objects.create(name="quick", format="webp", width=80, fps=5, duration=2)
    run = supervised(workers=1, REDIS_URL=private_redis.url)

    private_redis.crash()
    # The database is the record of the work: the console answers as usual, not with a 500.
    started = admin_client.post(reverse("console-video-processing", args=[video.public_id]),
                                {"templates": [template.pk]})
    assert started.status_code == 302, started.content[:500]
    with tiny_clip.open("rb") as handle:
        uploaded = admin_client.post(reverse("console-upload"), {"file": handle})
    assert uploaded.status_code == 302, uploaded.content[:500]

    private_redis.start()
    restarted = time.monotonic()
    task = Task.objects.get(video=video)
    new_video = Video.objects.exclude(pk=video.pk).get()
    poll(lambda: Task.objects.get(pk=task.pk).status == Task.Status.FINISH
         and Video.objects.get(pk=new_video.pk).status == Video.Status.READY, 60,
         "the task to finish and the upload to be ready", run)
    print(f"\nsubmitted while Redis was down: task FINISH and upload READY {time.monotonic() - restarted:.1f} s "
          "after Redis came back")
    assert_nothing_lost([task], media_root)
