"""render()'s result describes the file it wrote, and progress is reported along the way."""

from __future__ import annotations

import hashlib
import json

import pytest

from media_jobs.encode import EncodeError, RenderResult, RenderSpec, render
from tests.encode.animation import open_animation


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_the_result_matches_the_file_on_disk(make_clip, tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    result = render(make_clip(seconds=2.0), RenderSpec(format=fmt, width=160, fps=10, start=0.5, duration=1.0), out)
    anim = open_animation(out)
    data = out.read_bytes()
    assert result.container == fmt
    assert (result.width, result.height) == (anim.width, anim.height) == (160, 120)
    assert result.frames == len(anim.frames) == 10
    assert result.size == len(data)
    assert result.md5 == hashlib.md5(data).hexdigest()
    assert result.duration == pytest.approx(anim.duration_ms / 1000, abs=0.011)
    assert result.bitrate == pytest.approx(result.size * 8 / result.duration, rel=0.02)
    assert RenderResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_the_same_input_gives_the_same_bytes(make_clip, tmp_path):
    src = make_clip(seconds=1.0)
    spec = RenderSpec(width=160, fps=10)
    first = render(src, spec, tmp_path / "a.gif")
    second = render(src, spec, tmp_path / "b.gif")
    assert first.md5 == second.md5


def test_progress_rises_from_0_to_1(long_clip, tmp_path):
    seen: list[float] = []
    # Long enough (300 frames of 640x480, ~0.6 s) to outlast the core's ~10 reports a second limit
    # a few times.
    render(long_clip, RenderSpec(format="webp", fps=10, duration=30, quality=50, width=640), tmp_path / "out.webp",
           progress=seen.append)
    assert len(seen) >= 3
    assert all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen)
    assert seen[-1] == pytest.approx(1.0)
    assert any(0.0 < f < 1.0 for f in seen)


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_a_progress_callback_that_cancels_midway_leaves_no_file(long_clip, tmp_path, fmt):
    class Cancelled(Exception):
        pass

    calls: list[float] = []

    def cancel(fraction: float) -> None:
        calls.append(fraction)
        if 0.0 < fraction < 1.0:
            raise Cancelled()

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises((Cancelled, EncodeError)):
        render(long_clip, RenderSpec(format=fmt, fps=10, duration=30), out_dir / f"out.{fmt}", progress=cancel)
    assert calls and calls[-1] < 1.0
    assert list(out_dir.iterdir()) == []
