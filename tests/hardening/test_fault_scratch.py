"""A render killed with SIGKILL leaves its scratch folder (the half-written output inside) in the
temp folder. A worker starting on that machine removes it, and so does the reconciler's next
pass; the folder of a render still running in another worker stays."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from media_jobs.commands import tasks as task_commands
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task
from tests.e2e.conftest import descendants, kill_tree
from tests.hardening.conftest import poll, ready_video

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The reconciler runs every 0.5 s here (RECONCILE_INTERVAL); a worker starts in about 2 s.
SWEPT_BOUND_SECONDS = 10


@pytest.fixture
def slow_task(slow_clip, run_worker) -> Task:
    """One render of 2.5-5 s (720 frames, a palette each), as in the SIGTERM tests."""
    video = ready_video(slow_clip, run_worker, "scratch")
    slow = AnimatedImageTemplate.objects.create(
        name="slow", format="gif", fps=30, width=320, palette_mode="per_frame", dither="floyd_steinberg"
    )
    return task_commands.submit_task(video, [task_commands.StepRequest(slow)])


def scratch_folders(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("loopdeck-render-*"))


def rendering(task: Task, tmp: Path) -> bool:
    image = task.outputs.get()
    return image.status == AnimatedImage.Status.PROCESSING and image.progress > 5 and bool(scratch_folders(tmp))


def kill_worker(worker) -> None:
    """SIGKILL to the worker, its work horse and the render child, as the OOM killer or a
    machine's `kill -9` leaves them."""
    assert descendants(worker.pid), "the worker has no work horse"
    kill_tree(worker)


def test_a_killed_renders_folder_is_swept_by_a_starting_worker_and_by_the_reconciler(
        slow_task, processes, tmp_path):
    begun, phases = time.monotonic(), []
    tmp = tmp_path / "machine-tmp"
    tmp.mkdir()
    machine = {"TMPDIR": str(tmp)}  # the processes' temp folder, watched here

    # 1. A live render's folder survives the reconciler's sweeps.
    first = processes.start("worker", **machine)
    poll(lambda: rendering(slow_task, tmp), 60, "the render to be under way", processes)
    live = scratch_folders(tmp)
    phases.append(round(time.monotonic() - begun, 1))
    reconciler = processes.start("reconciler", **machine)
    time.sleep(3)  # six passes
    assert scratch_folders(tmp) == live, "a live render's folder was swept"
    kill_tree(reconciler)

    # 2. Killed mid-render: the folder stays until a worker starts on the machine.
    phases.append(round(time.monotonic() - begun, 1))
    kill_worker(first)
    assert scratch_folders(tmp) == live and any(live[0].iterdir())
    second = processes.start("worker", **machine)
    swept_by_worker = poll(lambda: not any(p in scratch_folders(tmp) for p in live), SWEPT_BOUND_SECONDS,
                           "the starting worker to sweep the folder", processes)

    # 3. The reconciler puts the lost render back; that worker renders it again and is killed as
    # well: the reconciler's next pass sweeps what it leaves.
    processes.start("reconciler", **machine)
    poll(lambda: rendering(slow_task, tmp) and Task.objects.get(pk=slow_task.pk).outputs.get().attempts >= 2
         and bool(scratch_folders(tmp)), 60, "the re-render to be under way", processes)
    again = scratch_folders(tmp)
    kill_worker(second)
    phases.append(round(time.monotonic() - begun, 1))
    swept_by_reconciler = poll(lambda: not any(p in scratch_folders(tmp) for p in again), SWEPT_BOUND_SECONDS,
                               "the reconciler to sweep the folder", processes)
    print(f"\nswept {swept_by_worker:.2f} s after a worker started, {swept_by_reconciler:.2f} s after a kill "
          f"by the reconciler; phases at {phases}")
