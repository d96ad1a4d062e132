"""The disk full while a worker writes an output: MEDIA_ROOT is a small tmpfs, nearly filled.

The output fails at once with InsufficientStorage (not retried: space rarely comes back within
RQ's 10 s and 60 s, and each retry would render again only to fail), nothing half-written is
left, earlier outputs stay intact, the worker keeps working, and once space is freed a retry of
the output succeeds."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from media_jobs.commands import tasks as task_commands
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task
from tests.hardening.conftest import (
    assert_nothing_lost,
    decoded_frames,
    output_files,
    poll,
    ready_video,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DISK = 2 * 1024 * 1024
LEFT_FREE = 64 * 1024  # room for small outputs, not for the big one


@pytest.fixture
def small_disk(media_root: Path):
    """MEDIA_ROOT on a 2 MB tmpfs (mounting needs root)."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command to make a small file system with")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(media_root)],
                             check=False, capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    yield media_root
    subprocess.run(["umount", "-l", str(media_root)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Take all but `leave` bytes of free space."""
    usage = shutil.disk_usage(disk)
    filler = disk / "filler.bin"
    with filler.open("wb") as handle:
        handle.truncate(0)
        handle.write(b"\0" * max(0, usage.free - leave))
    return filler


def finished(task: Task) -> bool:
    return Task.objects.get(pk=task.pk).status == Task.Status.FINISH


def test_a_full_disk_fails_the_output_with_a_named_error_and_a_retry_succeeds_once_space_is_free(
    small_disk, slow_clip, tiny_clip, run_worker, processes
):
    video = ready_video(slow_clip, run_worker, "disk full")
    small = AnimatedImageTemplate.objects.create(name="small", format="webp", width=64, fps=5, duration=2)
    big = AnimatedImageTemplate.objects.create(name="big", format="gif", fps=15, palette_mode="per_frame")
    worker = processes.start("worker")

    earlier = task_commands.submit_task(video, [task_commands.StepRequest(small)])
    poll(lambda: finished(earlier), 60, "the first output", processes)
    kept = earlier.outputs.get()
    assert kept.status == AnimatedImage.Status.SUCCESS
    kept_bytes = (small_disk / kept.file.name).read_bytes()

    filler = fill(small_disk, LEFT_FREE)
    task = task_commands.submit_task(video, [task_commands.StepRequest(big)])
    submitted = time.monotonic()
    poll(lambda: finished(task), 60, "the output to fail", processes)
    failed_after = time.monotonic() - submitted
    image = task.outputs.get()
    assert (image.status, image.error_code) == (AnimatedImage.Status.FAIL, "InsufficientStorage"), image.error_message
    assert "free some space" in image.error_message
    assert image.attempts == 1, "a full disk should not be retried by itself"
    task.refresh_from_db()
    assert (task.result, task.error_code) == (Task.Result.FAIL, "InsufficientStorage")
    # Nothing half-written, the earlier output untouched and whole, the worker still there.
    assert output_files(small_disk) == [small_disk / kept.file.name]
    assert (small_disk / kept.file.name).read_bytes() == kept_bytes
    assert decoded_frames(small_disk / kept.file.name) == kept.frames
    assert worker.poll() is None, "the worker died"

    filler.unlink()
    task_commands.retry_task(task)
    poll(lambda: finished(task), 60, "the retried output", processes)
    image.refresh_from_db()
    assert image.status == AnimatedImage.Status.SUCCESS, (image.error_code, image.error_message)
    print(f"\ndisk full: InsufficientStorage {failed_after:.1f} s after submission; retry succeeded "
          f"({image.size:,} bytes) once space was freed")
    assert image.size > LEFT_FREE
    assert_nothing_lost([earlier, task], small_disk, retried={task.pk})
    assert worker.poll() is None
