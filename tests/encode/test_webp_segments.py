"""Animated WebP encoded in segments on two threads and joined: what a viewer sees must not change."""

from __future__ import annotations

import numpy as np
import pytest

from media_jobs.encode import EncodeError, RenderSpec, render, webp
from media_jobs.encode.scaler import OutputFormat
from tests.encode.animation import open_animation


def _one_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webp, "segment_starts", lambda *args: [0])


def _short_segments(monkeypatch: pytest.MonkeyPatch, frames: int = webp.MIN_SEGMENT_FRAMES) -> None:
    # A budget of one picture gives the shortest segments the encoder allows: many joins.
    monkeypatch.setattr(webp, "SEGMENT_BUDGET_BYTES", 1)
    monkeypatch.setattr(webp, "MIN_SEGMENT_FRAMES", frames)


def test_two_segments_within_the_memory_budget_more_only_past_it():
    yuv = OutputFormat("yuv420p", bt601_limited=True)
    # The first encoder starts earlier, so it gets the larger share.
    assert webp.segment_starts(45, 640, 360, yuv) == [0, 27]
    assert webp.segment_starts(15, 640, 360, yuv) == [0]  # too few frames to be worth a second key frame
    starts = webp.segment_starts(1500, 1280, 720, yuv)
    longest = max(b - a for a, b in zip(starts, [*starts[1:], 1500]))
    assert len(starts) > 2
    # Both encoders' queues (a segment and one more picture each) stay within the budget.
    assert 2 * (longest + 1) * 1280 * 720 * 3 / 2 <= webp.SEGMENT_BUDGET_BYTES
    # Pictures with alpha are never cut (a later segment could not clear what came before).
    assert webp.segment_starts(300, 640, 360, OutputFormat("yuva420p", bt601_limited=True)) == [0]


def test_many_segments_play_the_same_frames_for_the_same_time_as_one(make_clip, tmp_path, monkeypatch):
    src = make_clip(seconds=3.0, fps=30, content="texture")
    spec = RenderSpec(format="webp", width=240, fps=20, duration=3.0, quality=90, loop=3)
    with monkeypatch.context() as patch:
        _one_segment(patch)
        single_result = render(src, spec, tmp_path / "single.webp")
    with monkeypatch.context() as patch:
        _short_segments(patch)
        joined_result = render(src, spec, tmp_path / "joined.webp")
    single, joined = open_animation(tmp_path / "single.webp"), open_animation(tmp_path / "joined.webp")

    assert len(joined.frames) == len(single.frames) == 60
    assert joined.delays == single.delays
    assert joined.duration_ms == 3000
    assert joined_result.frames == 60 and joined_result.duration == single_result.duration == 3.0
    assert joined.loop == 3
    assert (joined.width, joined.height) == (single.width, single.height)
    # Each frame, the seams (every 8th) included, shows the same picture within lossy noise.
    for k, (a, b) in enumerate(zip(single.frames, joined.frames)):
        diff = np.abs(a.astype(int) - b.astype(int)).mean()
        assert diff < 2.0, f"frame {k} differs by {diff:.2f} levels on average"
    # A new key frame every 8 frames costs little for moving pictures.
    assert joined.size <= single.size * 1.25


def test_a_still_range_cut_into_segments_still_plays_for_the_range(make_clip, tmp_path, monkeypatch):
    src = make_clip(seconds=3.0, fps=10, content="still")
    _short_segments(monkeypatch)
    result = render(src, RenderSpec(format="webp", width=160, fps=10, duration=3.0), tmp_path / "out.webp")
    anim = open_animation(tmp_path / "out.webp")
    assert anim.is_animated
    assert anim.duration_ms == 3000
    assert result.duration == 3.0
    first, last = anim.frames[0].astype(int), anim.frames[-1].astype(int)
    assert np.abs(first - last).mean() < 1.0


def test_a_repeated_picture_across_a_seam_shows_at_the_right_time(make_clip, tmp_path, monkeypatch):
    # 5 fps source at 20 fps: every picture is handed over four times, some across a seam.
    src = make_clip(seconds=2.0, fps=5)
    _short_segments(monkeypatch, frames=6)  # seams at 6, 18, 30 fall inside a picture's four slots
    render(src, RenderSpec(format="webp", width=160, fps=20, duration=2.0), tmp_path / "out.webp")
    anim = open_animation(tmp_path / "out.webp")
    assert anim.duration_ms == 2000
    shown: list[int] = []
    for index, delay in zip(anim.frame_indices(), anim.delays):
        shown += [index] * (delay // 50)
    assert shown == [k // 4 for k in range(40)]


def test_a_failing_segment_fails_the_render_and_leaves_nothing_behind(make_clip, tmp_path, monkeypatch):
    src = make_clip(seconds=2.0, fps=30)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    _short_segments(monkeypatch)
    real_open = webp.av.open

    def open_failing_second_segment(path, *args, **kwargs):
        # The second segment's file cannot be created: a real FFmpeg error in the encoder thread.
        if str(path).endswith(".1.seg"):
            path = str(out_dir / "missing-dir" / "part.webp")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(webp.av, "open", open_failing_second_segment)
    with pytest.raises((EncodeError, OSError)):
        render(src, RenderSpec(format="webp", width=160, fps=30, duration=2.0), out_dir / "out.webp")
    assert list(out_dir.iterdir()) == []
