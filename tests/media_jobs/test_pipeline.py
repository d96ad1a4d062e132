"""The task pipeline on a real Redis with a real (in-process) RQ worker and real encodes."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis.lock
from django.core.files import File
from django.utils import timezone
from PIL import Image, ImageSequence

from media_jobs.commands import tasks as task_commands

from media_jobs.commands import videos as video_commands
from media_jobs.jobs import render as jobs
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video, Workflow, WorkflowStep
from media_jobs.jobs.reconcile import reconcile

pytestmark = pytest.mark.django_db(transaction=True)


def upload(path: Path, workflow: Workflow | None = None) -> Video:
    with path.open("rb") as handle:
        return video_commands.create_video(File(handle, name=path.name), path.stem, workflow)


@pytest.fixture
def workflow() -> Workflow:
    gif = AnimatedImageTemplate.objects.create(name="gif 160", format="gif", width=160, fps=10, duration=1.5)
    webp = AnimatedImageTemplate.objects.create(name="webp cover", format="webp", width=200, fps=12,
                                                set_as_cover=True)
    wf = Workflow.objects.create(name="preview pair")
    WorkflowStep.objects.create(workflow=wf, position=0, template=gif)
    WorkflowStep.objects.create(workflow=wf, position=1, template=webp, start_time_offset=1, end_time_offset=2.5)
    return wf


def frames_and_duration(path: str) -> tuple[int, int, tuple[int, int]]:
    with Image.open(path) as im:
        delays = []
        for frame in ImageSequence.Iterator(im):
            frame.load()  # Pillow's WebP reader sets the delay only once the frame is loaded
            delays.append(frame.info.get("duration", 0))
        return len(delays), sum(delays), im.size


def test_an_upload_with_a_workflow_ends_with_its_animated_images_stored(small_clip, workflow, run_worker, media_root):
    video = upload(small_clip, workflow)
    task = Task.objects.get(video=video)
    assert task.origin == Task.Origin.UPLOAD and task.status == Task.Status.WAITING

    run_worker()

    video.refresh_from_db()
    task.refresh_from_db()
    assert video.status == Video.Status.READY
    assert video.duration == pytest.approx(3.0, abs=0.1)
    assert video.cover_image and Path(video.cover_image.path).stat().st_size > 0
    assert (task.status, task.result) == (Task.Status.FINISH, Task.Result.SUCCESS)
    assert task.begun_at and task.finished_at and task.finished_at >= task.begun_at

    gif, webp = task.outputs.order_by("position")
    assert gif.status == webp.status == AnimatedImage.Status.SUCCESS
    count, total_ms, size = frames_and_duration(gif.file.path)
    assert count == 15 and abs(total_ms - 1500) <= 10 and size == (160, 120)
    assert (gif.frames, gif.width, gif.height, gif.progress) == (15, 160, 120, 100)
    count, total_ms, size = frames_and_duration(webp.file.path)
    assert count == 18 and abs(total_ms - 1500) <= 10 and size == (200, 150)
    assert (webp.start_offset, webp.end_offset) == (pytest.approx(1.0), pytest.approx(2.5))
    assert len(gif.md5) == 32 and gif.size == Path(gif.file.path).stat().st_size
    # The template said "set as cover": the WebP replaced the static cover.
    assert video.cover_animated_id == webp.pk and ".webp?sig=" in video.cover_url
    # Nothing half-written is left next to the outputs.
    assert not list(media_root.rglob(".partial-*"))


def test_running_a_render_twice_leaves_one_output(small_clip, run_worker, media_root):
    video = upload(small_clip)
    run_worker()
    template = AnimatedImageTemplate.objects.get(definition=20002)
    task = task_commands.submit_task(Video.objects.get(pk=video.pk), [task_commands.StepRequest(template)])
    run_worker()
    image = task.outputs.get()
    assert image.status == AnimatedImage.Status.SUCCESS
    assert jobs.render_animated_image(image.pk) == AnimatedImage.Status.SUCCESS
    assert len(list((media_root / "videos" / str(video.public_id) / "animated").iterdir())) == 1
    image.refresh_from_db()
    assert image.attempts == 1


def test_a_range_beyond_the_video_fails_that_output_with_a_named_error(small_clip, run_worker):
    late = AnimatedImageTemplate.objects.create(name="late", start=10, duration=2)
    fine = AnimatedImageTemplate.objects.create(name="fine", width=96, fps=5, duration=1)
    wf = Workflow.objects.create(name="mixed")
    WorkflowStep.objects.create(workflow=wf, position=0, template=late)
    WorkflowStep.objects.create(workflow=wf, position=1, template=fine)
    video = upload(small_clip, wf)
    run_worker()
    task = Task.objects.get(video=video)
    late_out, fine_out = task.outputs.order_by("position")
    assert late_out.status == AnimatedImage.Status.FAIL and late_out.error_code == "InvalidTimeRange"
    assert "start" in late_out.error_message and not late_out.file
    assert fine_out.status == AnimatedImage.Status.SUCCESS
    assert (task.status, task.result, task.error_code) == (Task.Status.FINISH, Task.Result.FAIL, "InvalidTimeRange")
    assert "1 of 2" in task.error_message


def test_a_file_that_is_not_a_video_fails_the_video_and_its_outputs(tmp_path, workflow, run_worker):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not a video\n" * 50)
    video = upload(bogus, workflow)
    run_worker()
    video.refresh_from_db()
    assert video.status == Video.Status.FAILED and video.error_code == "InvalidVideoFormat"
    task = Task.objects.get(video=video)
    assert task.status == Task.Status.FINISH and task.result == Task.Result.FAIL
    assert set(task.outputs.values_list("error_code", flat=True)) == {"InvalidVideoFormat"}


def test_a_render_whose_worker_died_is_requeued_and_finishes(small_clip, run_worker, fast_reconcile):
    video = upload(small_clip)
    run_worker()
    template = AnimatedImageTemplate.objects.get(definition=20002)
    task = task_commands.submit_task(Video.objects.get(pk=video.pk), [task_commands.StepRequest(template)])
    image = task.outputs.get()
    # A worker took the job, claimed the row, and died: the row is PROCESSING, no heartbeat since.
    run_worker_job_lost(image)
    assert reconcile().requeued == []  # its heartbeat is still fresh
    AnimatedImage.objects.filter(pk=image.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=10))
    report = reconcile()
    assert report.requeued == [image.pk]
    run_worker()
    image.refresh_from_db()
    task.refresh_from_db()
    assert image.status == AnimatedImage.Status.SUCCESS and image.attempts == 2
    assert task.status == Task.Status.FINISH


def test_a_reconciler_killed_mid_pass_holds_back_the_others_only_for_its_lease(
        small_clip, run_worker, fast_reconcile, redis_conn, monkeypatch):
    from media_jobs.jobs import reconcile as reconcile_module

    monkeypatch.setattr(reconcile_module, "LOCK_LEASE_SECONDS", 1)
    video = upload(small_clip)
    run_worker()
    template = AnimatedImageTemplate.objects.get(definition=20002)
    image = task_commands.submit_task(Video.objects.get(pk=video.pk), [task_commands.StepRequest(template)]).outputs.get()
    run_worker_job_lost(image)
    # A reconciler's pass dies (SIGKILL) before it releases the pass lock.
    with monkeypatch.context() as killed:
        killed.setattr(redis.lock.Lock, "release", lambda lock: None)
        assert reconcile().requeued == []  # the heartbeat is still fresh
    assert redis_conn.exists(reconcile_module.LOCK_NAME)
    AnimatedImage.objects.filter(pk=image.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=10))

    started = time.monotonic()
    while not (report := reconcile()).requeued and time.monotonic() - started < 5:
        time.sleep(0.1)
    assert report.requeued == [image.pk], "the lost render waited on a dead reconciler's lock"
    assert time.monotonic() - started < 2


def run_worker_job_lost(image: AnimatedImage) -> None:
    from media_jobs.jobs import queues

    queues.get_queue(queues.ENCODE).empty()
    assert image.claim("render-dead-worker", stale_after=3)
    image.task.mark_processing()


def test_a_render_lost_too_often_fails_with_worker_lost(small_clip, run_worker, fast_reconcile, settings):
    video = upload(small_clip)
    run_worker()
    task = task_commands.submit_task(Video.objects.get(pk=video.pk),
                                [task_commands.StepRequest(AnimatedImageTemplate.objects.get(definition=20002))])
    image = task.outputs.get()
    run_worker_job_lost(image)
    AnimatedImage.objects.filter(pk=image.pk).update(
        attempts=settings.MAX_RENDER_ATTEMPTS, heartbeat_at=timezone.now() - timedelta(seconds=10)
    )
    assert reconcile().failed == [image.pk]
    image.refresh_from_db()
    task.refresh_from_db()
    assert image.error_code == "WorkerLost"
    assert (task.status, task.result) == (Task.Status.FINISH, Task.Result.FAIL)


def test_work_lost_from_redis_is_queued_again(small_clip, run_worker, fast_reconcile, redis_conn):
    video = upload(small_clip)
    run_worker()
    task = task_commands.submit_task(Video.objects.get(pk=video.pk),
                                [task_commands.StepRequest(AnimatedImageTemplate.objects.get(definition=20002))])
    redis_conn.flushdb()  # Redis restarted without persistence: the queued job is gone
    AnimatedImage.objects.filter(task=task).update(created_at=timezone.now() - timedelta(seconds=5))
    assert len(reconcile().requeued) == 1
    run_worker()
    task.refresh_from_db()
    assert (task.status, task.result) == (Task.Status.FINISH, Task.Result.SUCCESS)


def test_a_failed_output_can_be_retried(small_clip, run_worker):
    video = upload(small_clip)
    run_worker()
    task = task_commands.submit_task(Video.objects.get(pk=video.pk),
                                [task_commands.StepRequest(AnimatedImageTemplate.objects.get(definition=20002))])
    image = task.outputs.get()
    image.claim("render-x", stale_after=3)
    image.record_failure("InternalError", "disk hiccup", "render-x")
    task.refresh_status()
    task_commands.retry_task(Task.objects.get(pk=task.pk))
    run_worker()
    image.refresh_from_db()
    task.refresh_from_db()
    assert image.status == AnimatedImage.Status.SUCCESS and image.error_code == ""
    assert (task.status, task.result) == (Task.Status.FINISH, Task.Result.SUCCESS)


def test_progress_reaches_the_row_while_the_render_runs(long_clip, run_worker, settings):
    settings.HEARTBEAT_INTERVAL = 0.2
    video = upload(long_clip)
    run_worker()
    template = AnimatedImageTemplate.objects.create(name="slow", format="gif", fps=30, palette_mode="per_frame",
                                                    dither="floyd_steinberg", duration=12)
    task = task_commands.submit_task(Video.objects.get(pk=video.pk), [task_commands.StepRequest(template)])
    image = task.outputs.get()
    seen: set[int] = set()
    # The job function itself, in a thread, so this test can watch the row while it runs.
    worker = threading.Thread(target=jobs.render_animated_image, args=(image.pk,))
    worker.start()
    while worker.is_alive():
        seen.add(AnimatedImage.objects.get(pk=image.pk).progress)
        time.sleep(0.1)
    worker.join()
    assert any(0 < p < 100 for p in seen), seen
    assert AnimatedImage.objects.get(pk=image.pk).progress == 100


def test_a_render_over_its_time_limit_fails_with_a_named_error(long_clip, run_worker, settings):
    video = upload(long_clip)
    run_worker()
    settings.RENDER_TIMEOUT = 1
    slow = AnimatedImageTemplate.objects.create(name="slow", format="gif", fps=30, palette_mode="per_frame",
                                                dither="floyd_steinberg")
    task = task_commands.submit_task(Video.objects.get(pk=video.pk), [task_commands.StepRequest(slow)])
    started = time.monotonic()
    run_worker()
    image = task.outputs.get()
    assert image.status == AnimatedImage.Status.FAIL and image.error_code == "ProcessTimeout"
    assert image.attempts == 1  # a timeout is not retried: the same input would time out again
    assert time.monotonic() - started < 30


def test_a_transient_storage_failure_is_retried_then_reported(small_clip, run_worker, media_root, monkeypatch):
    from media_jobs.jobs import queues

    monkeypatch.setattr(queues, "RETRY_INTERVALS", [0, 0])
    video = upload(small_clip)
    run_worker()
    # The folder the output goes to cannot be created: a plain file sits where it should be.
    (media_root / "videos" / str(video.public_id) / "animated").write_text("in the way")
    task = task_commands.submit_task(Video.objects.get(pk=video.pk),
                                [task_commands.StepRequest(AnimatedImageTemplate.objects.get(definition=20002))])
    run_worker()
    image = task.outputs.get()
    assert image.status == AnimatedImage.Status.FAIL and image.error_code == "InternalError"
    assert image.attempts == 1 + len(queues.RETRY_INTERVALS)
    task.refresh_from_db()
    assert task.status == Task.Status.FINISH
