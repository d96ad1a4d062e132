"""What a killed render leaves behind is cleared by the next one.

A work horse killed while saving (SIGKILL, the OOM killer) leaves the storage's temporary file
beside the output's final name, and its scratch folder (which holds the half-written output) in
the temp folder. The re-render of the same image removes the first; any render removes scratch
folders whose lock no live job holds. Both are recreated here as a kill leaves them: the moment
of a kill inside a save is too short to hit reliably (a kill mid-render, with real worker
processes, is tests/hardening/test_fault_scratch.py)."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from media_jobs.commands import tasks as task_commands
from media_jobs.jobs import render as jobs
from media_jobs.jobs import scratch
from media_jobs.models import AnimatedImage, AnimatedImageTemplate
from tests.hardening.conftest import assert_nothing_lost, output_files, ready_video

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scratch_dirs():
    made: list[Path] = []
    held: list[int] = []

    def make(live: bool) -> Path:
        """A render's scratch folder; a live render holds its lock (here, this process does)."""
        path = Path(tempfile.gettempdir()) / f"loopdeck-render-{uuid.uuid4().hex}"
        path.mkdir()
        (path / "out.gif.tmp").write_bytes(b"GIF89a half of it")
        fd = os.open(path / scratch.LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
        if live:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held.append(fd)
        else:
            os.close(fd)
        made.append(path)
        return path

    yield make
    for fd in held:
        os.close(fd)
    for path in made:
        if path.exists():
            shutil.rmtree(path)


def test_a_render_clears_what_a_killed_render_of_the_same_image_left(tiny_clip, run_worker, media_root,
                                                                      scratch_dirs, settings):
    video = ready_video(tiny_clip, run_worker, "leftovers")
    template = AnimatedImageTemplate.objects.create(name="gif", format="gif", fps=10)
    task = task_commands.submit_task(video, [task_commands.StepRequest(template)])
    image = task.outputs.get()
    final = media_root / jobs.output_name(image)
    final.parent.mkdir(parents=True)
    own_partial = final.with_name(f".partial-{final.name}-k1ll3d")
    own_partial.write_bytes(b"GIF89a half of it")
    other_partial = final.with_name(f".partial-{uuid.uuid4()}.gif-busy")  # another render, still saving
    other_partial.write_bytes(b"GIF89a")
    orphaned, live = scratch_dirs(live=False), scratch_dirs(live=True)

    run_worker()
    image.refresh_from_db()
    assert image.status == AnimatedImage.Status.SUCCESS
    assert not own_partial.exists() and other_partial.exists()
    other_partial.unlink()
    assert output_files(media_root) == [final]
    assert not orphaned.exists() and live.exists()
    assert_nothing_lost([task], media_root)
