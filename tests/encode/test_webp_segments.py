"""Animated WebP encoded in segments on two threads and joined: what a viewer sees must not change."""

from __future__ import annotations

import numpy as np
import pytest

import importlib

from media_jobs.encode import EncodeError, RenderSpec, render, segments, webp
from media_jobs.encode.scaler import OutputFormat
from tests.encode.animation import open_animation

plan_module = importlib.import_module("media_jobs.encode.plan")


def _one_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_module, "SECOND_DECODER_MAX_PIXELS", 0)
    monkeypatch.setattr(webp, "plan_segments", lambda count, *args: [webp.SegmentPlan(0, count, 0, 0, 8)])


def _short_segments(monkeypatch: pytest.MonkeyPatch, frames: int = segments.MIN_SEGMENT_FRAMES) -> None:
    # One decoder, and a budget of one picture: the shortest segments the encoder allows, many joins.
    monkeypatch.setattr(plan_module, "SECOND_DECODER_MAX_PIXELS", 0)
    monkeypatch.setattr(segments, "SEGMENT_BUDGET_BYTES", 1)
    monkeypatch.setattr(segments, "MIN_SEGMENT_FRAMES", frames)


def _plans(monkeypatch: pytest.MonkeyPatch) -> list[list[webp.SegmentPlan]]:
    """Record the segment plan of every WebP render."""
    seen: list[list[webp.SegmentPlan]] = []
    real = webp.plan_segments

    def recording(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(webp, "plan_segments", recording)
    return seen


def _ranges(plans: list[webp.SegmentPlan]) -> list[tuple[int, int, int, int]]:
    return [(p.start, p.end, p.producer, p.encoder) for p in plans]


YUV = OutputFormat("yuv420p", bt601_limited=True)


def test_one_decoder_two_segments_within_the_memory_budget_more_only_past_it():
    # The first encoder starts earlier, so it gets the larger share; its segment is queued whole
    # so the decoder can go on to the second.
    plans = webp.plan_segments(45, 640, 360, YUV)
    assert _ranges(plans) == [(0, 27, 0, 0), (27, 45, 0, 1)]
    assert plans[0].depth == 28
    assert _ranges(webp.plan_segments(15, 640, 360, YUV)) == [(0, 15, 0, 0)]  # too few for a second key frame
    plans = webp.plan_segments(1500, 1280, 720, YUV)
    longest = max(p.end - p.start for p in plans)
    assert len(plans) > 2 and [p.encoder for p in plans[:4]] == [0, 1, 0, 1]
    # Each encoder has one segment queued at a time (it begins taking a segment before the next
    # of its own may be handed over), and both such queues fit the budget.
    assert 2 * (longest + 1) * 1280 * 720 * 3 / 2 <= segments.SEGMENT_BUDGET_BYTES
    # Pictures with alpha are never cut (a later segment could not clear what came before).
    assert len(webp.plan_segments(300, 640, 360, OutputFormat("yuva420p", bt601_limited=True))) == 1


def test_two_decoders_each_feed_an_encoder_and_the_longer_range_lends_its_end():
    # Even ranges: one segment each.
    assert _ranges(webp.plan_segments(45, 640, 360, YUV, parts=[0, 22])) == [(0, 22, 0, 0), (22, 45, 1, 1)]
    # The second range is longer: its last frames go to the first encoder, after its own range.
    plans = webp.plan_segments(45, 640, 360, YUV, parts=[0, 15])
    assert _ranges(plans) == [(0, 15, 0, 0), (15, 38, 1, 1), (38, 45, 1, 0)]
    assert plans[1].depth == 24  # the second decoder must get past it to the lent frames
    assert webp.encoder_orders(plans) == [[0, 2], [1]]
    # The first range is longer: its end goes to the second encoder, which takes it last.
    plans = webp.plan_segments(100, 480, 270, YUV, parts=[0, 60])
    assert _ranges(plans) == [(0, 50, 0, 0), (50, 60, 0, 1), (60, 100, 1, 1)]
    assert webp.encoder_orders(plans) == [[0], [2, 1]]
    # Past the budget nothing is lent (the lent frames would wait behind a whole queued segment),
    # and each range is cut into segments no longer than the budget's, so that the encoded frames
    # a segment holds until it closes do not grow with the clip.
    plans = webp.plan_segments(1000, 1280, 720, YUV, parts=[0, 300])
    longest = max(p.end - p.start for p in plans)
    assert 2 * (longest + 1) * 1280 * 720 * 3 / 2 <= segments.SEGMENT_BUDGET_BYTES
    assert [(p.producer, p.encoder) for p in plans] == sorted((p.producer, p.producer) for p in plans)
    assert [p.start for p in plans if p.producer == 1][0] == 300 and plans[-1].end == 1000
    assert all(a.end == b.start for a, b in zip(plans, plans[1:]))
    assert webp.encoder_orders(plans) == [[i for i, p in enumerate(plans) if p.encoder == e] for e in (0, 1)]


def test_two_decoders_show_the_same_frames_for_the_same_time_as_one(make_clip, tmp_path, monkeypatch):
    # A key frame every half second: the second decoder starts at one of them.
    src = make_clip(seconds=4.0, fps=30, content="texture", gop=15)
    spec = RenderSpec(format="webp", width=240, fps=15, start=0.4, duration=3.0, quality=90)
    with monkeypatch.context() as patch:
        _one_segment(patch)
        single_result = render(src, spec, tmp_path / "single.webp")
    with monkeypatch.context() as patch:
        seen = _plans(patch)
        result = render(src, spec, tmp_path / "two.webp")
    assert len(seen) == 1 and {p.producer for p in seen[0]} == {0, 1}
    single, two = open_animation(tmp_path / "single.webp"), open_animation(tmp_path / "two.webp")
    assert len(two.frames) == len(single.frames) == 45
    assert two.delays == single.delays and two.duration_ms == 3000
    assert (result.frames, result.duration) == (single_result.frames, single_result.duration) == (45, 3.0)
    assert (result.start_offset, result.end_offset, result.clipped) == (0.4, 3.4, False)
    for k, (a, b) in enumerate(zip(single.frames, two.frames)):
        diff = np.abs(a.astype(int) - b.astype(int)).mean()
        assert diff < 2.0, f"frame {k} differs by {diff:.2f} levels on average"


def test_two_decoders_repeat_a_slow_source_at_the_right_times(make_clip, tmp_path, monkeypatch):
    # 5 fps source at 20 fps: every picture is handed over four times, by one decoder or the other.
    src = make_clip(seconds=4.0, fps=5, gop=5)
    seen = _plans(monkeypatch)
    render(src, RenderSpec(format="webp", width=160, fps=20, duration=4.0), tmp_path / "out.webp")
    assert {p.producer for p in seen[0]} == {0, 1}
    anim = open_animation(tmp_path / "out.webp")
    assert anim.duration_ms == 4000
    shown: list[int] = []
    for index, delay in zip(anim.frame_indices(), anim.delays):
        shown += [index] * (delay // 50)
    assert shown == [k // 4 for k in range(80)]


def test_without_a_key_frame_inside_the_range_one_decoder_renders_it(make_clip, tmp_path, monkeypatch):
    src = make_clip(seconds=3.0, fps=30, content="texture")  # a single key frame, at 0
    seen = _plans(monkeypatch)
    result = render(src, RenderSpec(format="webp", width=160, fps=15, duration=3.0), tmp_path / "out.webp")
    assert {p.producer for p in seen[0]} == {0}
    assert result.frames == 45 and result.duration == 3.0


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

    real_file_open = open

    def file_open_failing_second_segment(path, *args, **kwargs):
        # The same for the lossy segments libwebp encodes through Pillow.
        if str(path).endswith(".1.seg"):
            path = str(out_dir / "missing-dir" / "part.webp")
        return real_file_open(path, *args, **kwargs)

    monkeypatch.setattr(webp.av, "open", open_failing_second_segment)
    monkeypatch.setattr(webp, "open", file_open_failing_second_segment, raising=False)
    with pytest.raises((EncodeError, OSError)):
        render(src, RenderSpec(format="webp", width=160, fps=30, duration=2.0), out_dir / "out.webp")
    assert list(out_dir.iterdir()) == []
