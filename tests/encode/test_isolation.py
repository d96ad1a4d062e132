"""probe_isolated / render_isolated: the same answers as in-process, and a dying child fails cleanly."""

from __future__ import annotations

import ctypes
import faulthandler
import os
import time

import pytest

from media_jobs.encode import (EncodeError, ErrorCode, RenderSpec, probe, probe_isolated, render,
                               render_isolated)
from media_jobs.encode import isolate


def segfault(*args, **kwargs):
    """Crash the calling process for real: read address 0."""
    # pytest's faulthandler would print the child's stack to the test output: this crash is wanted.
    faulthandler.disable()
    ctypes.string_at(0)


def test_probe_isolated_matches_probe(make_clip):
    src = make_clip(seconds=1.0, audio=True, rotation=90)
    assert probe_isolated(src) == probe(src)


def test_render_isolated_matches_render(make_clip, tmp_path):
    src = make_clip(seconds=2.0)
    spec = RenderSpec(format="gif", width=160, fps=10, start=0.5, duration=1.0)
    here = render(src, spec, tmp_path / "here.gif")
    there = render_isolated(src, spec, tmp_path / "there.gif")
    assert there == here
    assert (tmp_path / "there.gif").read_bytes() == (tmp_path / "here.gif").read_bytes()


def test_named_errors_cross_the_process_boundary(empty_file, audio_only, tmp_path):
    with pytest.raises(EncodeError) as excinfo:
        probe_isolated(empty_file)
    assert excinfo.value.code == ErrorCode.EMPTY_FILE
    with pytest.raises(EncodeError) as excinfo:
        render_isolated(audio_only, RenderSpec(), tmp_path / "out.gif")
    assert excinfo.value.code == ErrorCode.NO_VIDEO_STREAM
    assert list(tmp_path.iterdir()) == []


def test_a_child_that_crashes_is_decode_failed_and_the_parent_lives(make_clip, tmp_path, monkeypatch):
    # The child is forked, so it inherits this patch; the parent itself never calls the function.
    monkeypatch.setattr(isolate, "render_to_temp", segfault)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(EncodeError) as excinfo:
        render_isolated(make_clip(seconds=1.0), RenderSpec(width=80), out_dir / "out.gif", timeout=30)
    assert excinfo.value.code == ErrorCode.DECODE_FAILED
    assert list(out_dir.iterdir()) == []
    # Still alive and able to work.
    assert probe(make_clip(seconds=1.0)).width == 320


def test_a_probe_child_that_crashes_is_decode_failed(make_clip, monkeypatch):
    monkeypatch.setattr(isolate, "probe", segfault)
    with pytest.raises(EncodeError) as excinfo:
        probe_isolated(make_clip(seconds=1.0), timeout=30)
    assert excinfo.value.code == ErrorCode.DECODE_FAILED


def test_a_child_over_its_memory_limit_fails_with_a_named_code(make_clip, tmp_path, monkeypatch):
    def hog(*args, **kwargs):
        blocks = []
        for _ in range(64):
            blocks.append(bytearray(64 * 1024 * 1024))
        return blocks

    monkeypatch.setattr(isolate, "render_to_temp", hog)
    with pytest.raises(EncodeError) as excinfo:
        render_isolated(make_clip(seconds=1.0), RenderSpec(width=80), tmp_path / "out.gif", timeout=60,
                        memory_limit_mb=256)
    assert excinfo.value.code in {ErrorCode.RESOURCE_LIMIT_EXCEEDED, ErrorCode.DECODE_FAILED}


def test_a_child_past_its_timeout_is_killed_quickly(long_clip, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    started = time.monotonic()
    with pytest.raises(EncodeError) as excinfo:
        render_isolated(long_clip, RenderSpec(format="gif", fps=30, palette_mode="per_frame"),
                        out_dir / "out.gif", timeout=0.5)
    elapsed = time.monotonic() - started
    assert excinfo.value.code == ErrorCode.PROCESS_TIMEOUT
    assert elapsed < 10, f"took {elapsed:.1f} s to give up after a 0.5 s timeout"
    assert list(out_dir.iterdir()) == []


def test_progress_from_the_child_arrives_in_the_parent(long_clip, tmp_path):
    seen: list[tuple[int, float]] = []
    render_isolated(long_clip, RenderSpec(format="webp", fps=10, duration=30, quality=50, width=640),
                    tmp_path / "out.webp",
                    progress=lambda f: seen.append((os.getpid(), f)))
    assert len(seen) >= 3
    assert {pid for pid, _ in seen} == {os.getpid()}
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)


def test_a_child_stopped_from_outside_is_worker_lost_not_a_bad_file(long_clip, tmp_path):
    import multiprocessing
    import signal
    import threading

    def stop_the_child() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            children = multiprocessing.active_children()
            if children:
                time.sleep(0.2)  # let it get into the render
                os.kill(children[0].pid, signal.SIGTERM)
                return
            time.sleep(0.01)

    stopper = threading.Thread(target=stop_the_child)
    stopper.start()
    with pytest.raises(EncodeError) as excinfo:
        render_isolated(long_clip, RenderSpec(format="gif", fps=30, palette_mode="per_frame"),
                        tmp_path / "out.gif", timeout=60)
    stopper.join()
    # A service manager's stop is not the file's fault: the job may run again (not permanent).
    assert excinfo.value.code == ErrorCode.WORKER_LOST
    assert not excinfo.value.permanent
    assert "SIGTERM" in excinfo.value.message


def _collect_and_render(src, out):
    import gc

    gc.collect()  # what the child's own garbage collection would do at some point
    return render(src, RenderSpec(format="gif", width=64, fps=10), out)


@pytest.mark.timeout(60)
def test_a_decoder_the_parent_left_in_a_reference_cycle_does_not_hang_the_child(make_clip, tmp_path):
    """A forked child that collected the parent's unreachable decoder would join FFmpeg threads
    that exist only in the parent, and hang until the timeout."""
    import gc

    import av

    src = make_clip(seconds=2.0, fps=30)

    class Holder:
        pass

    gc.disable()  # the cycle must still be there when the child starts
    try:
        container = av.open(str(src))
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads: they exist only in this process
        for i, _ in enumerate(container.decode(stream)):
            if i > 5:
                break
        container.close()
        holder = Holder()
        holder.cycle, holder.stream = holder, stream
        del holder, stream, container
        started = time.monotonic()
        result = isolate.run_isolated(_collect_and_render, src, tmp_path / "out.gif", timeout=20,
                                      memory_limit_mb=2048)
        assert result.frames == 20
        assert time.monotonic() - started < 10
    finally:
        gc.enable()
        gc.collect()
