"""End to end with real worker processes: an upload through the console form, and a worker
killed with SIGKILL in the middle of an encode."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files import File
from django.urls import reverse
from PIL import Image, ImageSequence

from media_jobs.commands import tasks as task_commands

from media_jobs.commands import videos as video_commands
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video, Workflow, WorkflowStep
from tests.e2e.conftest import kill_tree, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_upload_through_the_form_with_a_workflow_is_processed_by_the_worker(
    admin_client, small_clip, start_process
):
    template = AnimatedImageTemplate.objects.create(name="e2e gif", format="gif", width=160, fps=10, duration=2)
    workflow = Workflow.objects.create(name="e2e")
    WorkflowStep.objects.create(workflow=workflow, position=0, template=template)
    start_process("worker")

    with small_clip.open("rb") as handle:
        response = admin_client.post(reverse("console-upload"), {"file": handle, "workflow": workflow.pk})
    assert response.status_code == 302
    video = Video.objects.get()
    task = Task.objects.get(video=video)

    wait_for(lambda: Task.objects.get(pk=task.pk).status == Task.Status.FINISH, 90, "the task to finish")
    video.refresh_from_db()
    image = task.outputs.get()
    assert video.status == Video.Status.READY and video.cover_image
    assert image.status == AnimatedImage.Status.SUCCESS
    with Image.open(image.file.path) as im:
        delays = [f.info["duration"] for f in ImageSequence.Iterator(im)]
    assert len(delays) == 20 and abs(sum(delays) - 2000) <= 10
    page = admin_client.get(reverse("console-video-images", args=[video.public_id]))
    assert image.file.url in page.content.decode()


def test_a_worker_killed_mid_encode_leaves_no_partial_file_and_the_task_still_finishes(
    long_clip, start_process, run_worker, media_root
):
    with long_clip.open("rb") as handle:
        video = video_commands.create_video(File(handle, name="long.mp4"), "long")
    run_worker()  # prepare in-process; the render goes to the worker process
    slow = AnimatedImageTemplate.objects.create(
        name="slow", format="gif", fps=30, palette_mode="per_frame", dither="floyd_steinberg"
    )
    task = task_commands.submit_task(Video.objects.get(pk=video.pk), [task_commands.StepRequest(slow)])
    image = task.outputs.get()

    worker = start_process("worker")
    wait_for(lambda: AnimatedImage.objects.get(pk=image.pk).progress > 5, 90, "the render to be under way")
    kill_tree(worker)
    killed_at = time.monotonic()
    output_dir = media_root / "videos" / str(video.public_id) / "animated"
    assert not (output_dir.exists() and list(output_dir.iterdir())), "a partial output is visible"
    assert AnimatedImage.objects.get(pk=image.pk).status == AnimatedImage.Status.PROCESSING

    # What the run command does by itself: its supervisor restarts the worker, the reconciler runs.
    start_process("worker")
    start_process("reconciler")
    requeued_after = wait_for(
        lambda: AnimatedImage.objects.get(pk=image.pk).attempts == 2, 30, "the lost render to be re-queued"
    )
    wait_for(lambda: Task.objects.get(pk=task.pk).status == Task.Status.FINISH, 180, "the task to finish")
    finished_after = time.monotonic() - killed_at
    print(f"\nkilled render re-queued after {requeued_after:.1f} s, task final after {finished_after:.1f} s")

    image.refresh_from_db()
    assert image.status == AnimatedImage.Status.SUCCESS
    # Bound: heartbeat staleness (3 s here) + one reconcile interval (0.5 s) + start-up slack.
    assert requeued_after <= 3 + 0.5 + 10
    assert [p.name for p in output_dir.iterdir()] == [Path(image.file.name).name]
    with Image.open(image.file.path) as im:
        assert im.n_frames == image.frames == 600


SLOW_SOURCE = next((folder / "webcam_h264_vfr_single_keyframe_24s.mp4"
                    for folder in (Path(__file__).resolve().parents[3] / "shared" / "media", Path("/work/shared/media"))
                    if (folder / "webcam_h264_vfr_single_keyframe_24s.mp4").exists()), Path("/nonexistent"))


@pytest.mark.skipif(not SLOW_SOURCE.exists(), reason="the shared media corpus is not beside the repository")
def test_abort_stops_a_running_render_at_its_next_heartbeat_and_cancels_the_queued_ones(
    start_process, run_worker, media_root, redis_conn
):
    """A 24 s webcam file with a per-frame palette and error diffusion renders for about a minute
    here; the abort must stop it within a few heartbeats."""
    with SLOW_SOURCE.open("rb") as handle:
        video = video_commands.create_video(File(handle, name="webcam.mp4"), "webcam")
    run_worker()  # prepare in-process; the renders go to the worker process
    slow = AnimatedImageTemplate.objects.create(
        name="slow", format="gif", fps=30, palette_mode="per_frame", dither="floyd_steinberg"
    )
    task = task_commands.submit_task(Video.objects.get(pk=video.pk), [task_commands.StepRequest(slow)] * 3)
    first, *queued = task.outputs.order_by("position")

    worker = start_process("worker")
    wait_for(lambda: AnimatedImage.objects.get(pk=first.pk).progress > 2, 90, "the render to be under way")
    task_commands.abort_task(task)

    task.refresh_from_db()
    assert task.status == Task.Status.ABORTED
    assert {o.status for o in task.outputs.all()} == {AnimatedImage.Status.FAIL}
    assert {o.error_code for o in task.outputs.all()} == {"Aborted"}
    stopped_after = wait_for(lambda: not worker_busy(redis_conn), 60, "the running render to stop")
    print(f"\naborted render stopped {stopped_after:.1f} s after the abort (heartbeat every 0.5 s here)")
    assert stopped_after < 10, "the render went on after the abort"
    time.sleep(1)  # a cancelled job that were still queued would be taken now
    assert not worker_busy(redis_conn)
    assert all(AnimatedImage.objects.get(pk=o.pk).attempts == 0 for o in queued)
    output_dir = media_root / "videos" / str(video.public_id) / "animated"
    assert not (output_dir.exists() and list(output_dir.iterdir())), "an aborted render left a file"
    assert worker.poll() is None, "the worker died"


def worker_busy(redis_conn) -> bool:  # noqa: ANN001
    """Whether a worker is on a job (RQ's own record of its state)."""
    from rq import Worker

    return any(w.get_state() == "busy" for w in Worker.all(connection=redis_conn))
