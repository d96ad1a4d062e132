"""SIGTERM to a worker in the middle of an encode (the SIGKILL case is tests/e2e/test_worker_process.py).

The run command's supervisor stops a worker with SIGTERM to the worker's process group: RQ's
warm shutdown lets the current render finish and takes no new job. A service manager that
signals every process of the service (systemd's default) also reaches the render itself: that
render must be re-queued, not failed. A worker that outlives the supervisor's grace period is
killed with everything below it, so no render goes on unsupervised."""

from __future__ import annotations

import os
import signal
import time

import pytest

from console.process.supervisor import Child, Supervisor, worker_argv
from media_jobs.commands import tasks as task_commands
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task
from tests.e2e.conftest import MANAGE, descendants
from tests.hardening.conftest import assert_nothing_lost, poll, ready_video

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slow_task(slow_clip, run_worker):
    """A task whose one render takes 2.5-5 s (720 frames at 320x240, a palette per frame), queued
    for the worker processes (the in-process worker has prepared the video already). At the
    clip's own 160x120 it took 0.7 s on an AMD EPYC: done before the kill these tests aim at it."""
    video = ready_video(slow_clip, run_worker, "sigterm")
    slow = AnimatedImageTemplate.objects.create(
        name="slow", format="gif", fps=30, width=320, palette_mode="per_frame", dither="floyd_steinberg"
    )
    return task_commands.submit_task(video, [task_commands.StepRequest(slow)])


@pytest.fixture
def tiny_video(tiny_clip, run_worker):
    return ready_video(tiny_clip, run_worker, "queued behind")


def under_way(task: Task) -> bool:
    image = task.outputs.get()
    return image.status == AnimatedImage.Status.PROCESSING and image.progress > 5


def test_a_warm_shutdown_finishes_the_render_and_takes_no_new_job(tiny_video, slow_task, processes, media_root):
    quick = AnimatedImageTemplate.objects.create(name="quick", format="webp", fps=10)
    worker = processes.start("worker")
    poll(lambda: under_way(slow_task), 60, "the render to be under way", processes)
    assert slow_task.outputs.get().status == AnimatedImage.Status.PROCESSING

    os.killpg(worker.pid, signal.SIGTERM)  # what Supervisor.stop sends
    signalled = time.monotonic()
    time.sleep(0.5)
    queued = task_commands.submit_task(tiny_video, [task_commands.StepRequest(quick)])  # after the stop request
    worker.wait(timeout=60)
    stopped_after = time.monotonic() - signalled
    image = slow_task.outputs.get()
    assert image.status == AnimatedImage.Status.SUCCESS and image.attempts == 1, (image.status, processes.logs())
    assert queued.outputs.get().status == AnimatedImage.Status.WAITING, "a stopping worker took a new job"

    restarted = time.monotonic()
    processes.start("worker")
    queued_after = poll(lambda: Task.objects.get(pk=queued.pk).status == Task.Status.FINISH, 60,
                        "the queued task to finish on the new worker", processes)
    print(f"\nwarm shutdown: worker exited {stopped_after:.1f} s after SIGTERM with its render finished; "
          f"the queued task finished {queued_after:.1f} s after a new worker started")
    assert time.monotonic() - restarted < 30
    assert_nothing_lost([slow_task, queued], media_root)


def test_sigterm_to_every_process_of_the_worker_puts_the_render_straight_back(slow_task, processes, media_root):
    worker = processes.start("worker")
    poll(lambda: under_way(slow_task), 60, "the render to be under way", processes)

    for pid in [worker.pid, *descendants(worker.pid)]:  # as systemd's KillMode=control-group does
        os.kill(pid, signal.SIGTERM)
    signalled = time.monotonic()
    worker.wait(timeout=60)
    image = slow_task.outputs.get()
    # Not a decoder crash, and not left PROCESSING for the reconciler to find: back on the queue.
    assert image.status == AnimatedImage.Status.WAITING, (image.status, image.error_code, processes.logs())
    assert image.attempts == 0, "a stopped attempt counts against the render's attempts"

    processes.start("worker")  # no reconciler: the render was re-queued by the stopping worker
    finished_after = poll(lambda: Task.objects.get(pk=slow_task.pk).status == Task.Status.FINISH, 60,
                          "the task to finish after the restart", processes)
    print(f"\nSIGTERM to every process: worker gone and render re-queued, task FINISH {finished_after:.1f} s "
          "after the signal")
    assert_nothing_lost([slow_task], media_root)
    assert time.monotonic() - signalled < 30


def test_a_worker_past_the_supervisors_grace_is_killed_with_its_render(slow_task, fault_env, media_root):
    child = Child("worker-1", worker_argv(MANAGE))
    child.start(fault_env)
    tree: list[int] = []
    try:
        poll(lambda: under_way(slow_task), 60, "the render to be under way")
        tree = [child.process.pid, *descendants(child.process.pid)]
        assert len(tree) >= 3, "expected the worker, its work horse and the render child"
        Supervisor([child], fault_env, log=lambda _: None).stop(grace=0.3)
        time.sleep(0.3)
        left = [pid for pid in tree if os.path.exists(f"/proc/{pid}") and not _zombie(pid)]
        assert not left, f"processes left running after the supervisor stopped: {left}"
    finally:
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    # Killed mid-render: PROCESSING until the reconciler re-queues it (the SIGKILL test covers
    # that), and nothing half-written is visible.
    assert slow_task.outputs.get().status == AnimatedImage.Status.PROCESSING
    assert not list(media_root.glob("videos/*/animated/*"))


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False
