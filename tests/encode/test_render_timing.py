"""render(): how many frames come out, how long each is shown, and which part of the video they show."""

from __future__ import annotations

import pytest

from tests import clips
from tests.encode.animation import render_and_open

SECONDS = 3.0
SRC_FPS = 30
# One source frame, plus a bar pixel at 160 px wide: how far a frame's shown time may be off.
TIME_TOLERANCE = 1 / SRC_FPS + SECONDS / 159 + 0.005


@pytest.fixture(scope="module")
def source(make_clip):
    """3 s, 30 fps, 320x240, its time drawn as a bar and a frame counter."""
    return make_clip(seconds=SECONDS, fps=SRC_FPS)


def gif_tolerance_ms(fmt: str) -> int:
    # GIF delays are centiseconds: a correct encoder keeps the total within one of them.
    return 10 if fmt == "gif" else 5


@pytest.mark.parametrize("fmt", ["gif", "webp"])
@pytest.mark.parametrize("fps", [5, 10, 15, 24])
def test_it_renders_duration_times_fps_frames_that_play_for_the_duration(source, tmp_path, fmt, fps):
    result, anim = render_and_open(source, tmp_path / f"out.{fmt}", format=fmt, width=160, fps=fps,
                                   duration=2.0)
    assert abs(len(anim.frames) - round(2.0 * fps)) <= 1
    assert result.frames == len(anim.frames)
    assert anim.duration_ms == pytest.approx(len(anim.frames) * 1000 / fps, abs=gif_tolerance_ms(fmt))
    assert result.duration == pytest.approx(anim.duration_ms / 1000, abs=0.011)
    assert result.fps == pytest.approx(fps, rel=0.01)


def test_a_15_fps_gif_plays_at_15_fps_not_14_3(source, tmp_path):
    _, anim = render_and_open(source, tmp_path / "out.gif", format="gif", width=160, fps=15, duration=2.0)
    assert len(anim.frames) == 30
    assert set(anim.delays) <= {60, 70}
    assert anim.duration_ms == pytest.approx(2000, abs=10)
    # The rounding error is carried from frame to frame, not piled up at the end.
    for k in range(1, len(anim.delays) + 1):
        assert sum(anim.delays[:k]) == pytest.approx(k * 1000 / 15, abs=10)


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_frames_show_the_video_at_evenly_spaced_times(source, tmp_path, fmt):
    _, anim = render_and_open(source, tmp_path / f"out.{fmt}", format=fmt, width=160, fps=10, duration=2.0)
    times = anim.bar_times(SECONDS)
    for k, t in enumerate(times):
        assert t == pytest.approx(k / 10, abs=TIME_TOLERANCE), f"frame {k} shows {t:.3f} s"


def test_a_variable_frame_rate_source_gives_evenly_timed_output(make_clip, tmp_path):
    src = make_clip(seconds=SECONDS, fps=SRC_FPS, vfr=True)
    source_times = [float(t) for t in clips.frame_times(SRC_FPS, SECONDS, vfr=True)]
    result, anim = render_and_open(src, tmp_path / "out.gif", format="gif", width=160, fps=10, duration=2.0)
    assert abs(len(anim.frames) - 20) <= 1
    assert set(anim.delays) == {100}
    for k, t in enumerate(anim.bar_times(SECONDS)):
        # The frame on screen at k/10 s is the last source frame that started by then (VFR gaps
        # are up to 3/30 s), never a frame from the future.
        shown = max(s for s in source_times if s <= k / 10 + 1 / SRC_FPS)
        assert t == pytest.approx(shown, abs=SECONDS / 159 + 1 / SRC_FPS + 0.005), f"frame {k}"


def test_interval_ms_samples_one_frame_per_interval(source, tmp_path):
    result, anim = render_and_open(source, tmp_path / "out.gif", format="gif", width=160, interval_ms=250,
                                   duration=2.0)
    assert len(anim.frames) == 8
    assert set(anim.delays) == {250}
    for k, t in enumerate(anim.bar_times(SECONDS)):
        assert t == pytest.approx(k * 0.25, abs=TIME_TOLERANCE)


def test_max_frames_caps_the_frame_count(source, tmp_path):
    result, anim = render_and_open(source, tmp_path / "out.gif", format="gif", width=160, fps=10, max_frames=5)
    assert len(anim.frames) == result.frames == 5
    assert anim.duration_ms == pytest.approx(500, abs=10)


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_playback_fps_speeds_up_the_loop(source, tmp_path, fmt):
    result, anim = render_and_open(source, tmp_path / f"out.{fmt}", format=fmt, width=160, fps=10,
                                   playback_fps=20, duration=2.0)
    assert len(anim.frames) == 20
    assert anim.duration_ms == pytest.approx(1000, abs=gif_tolerance_ms(fmt))
    assert result.fps == pytest.approx(20)
    assert result.duration == pytest.approx(1.0, abs=0.011)
    # Still two seconds of the video, shown twice as fast.
    assert anim.bar_times(SECONDS)[-1] == pytest.approx(1.9, abs=TIME_TOLERANCE)


def test_playback_fps_slows_down_the_loop(source, tmp_path):
    result, anim = render_and_open(source, tmp_path / "out.gif", format="gif", width=160, fps=10,
                                   playback_fps=5, duration=1.0)
    assert len(anim.frames) == 10
    assert anim.duration_ms == pytest.approx(2000, abs=10)


@pytest.mark.parametrize(
    "range_fields,start,end",
    [
        ({"start": 1.0, "duration": 1.0}, 1.0, 2.0),
        ({"start": 0.5, "end": 1.5}, 0.5, 1.5),
        ({"start": 1.0, "trim_end": 0.5}, 1.0, 2.5),
        ({"start": -1.0}, 2.0, 3.0),
        ({"start": -2.5, "end": -1.0}, 0.5, 2.0),
        ({"start": 1.2, "end": -0.3}, 1.2, 2.7),
    ],
    ids=["start+duration", "start+end", "trim_end", "negative-start", "negative-both", "mixed"],
)
def test_the_time_range_sets_the_offsets_and_the_content(source, tmp_path, range_fields, start, end):
    result, anim = render_and_open(source, tmp_path / "out.gif", format="gif", width=160, fps=10, **range_fields)
    assert result.start_offset == pytest.approx(start, abs=0.02)
    assert result.end_offset == pytest.approx(end, abs=0.02)
    assert result.clipped is False
    assert abs(len(anim.frames) - round((end - start) * 10)) <= 1
    times = anim.bar_times(SECONDS)
    assert times[0] == pytest.approx(start, abs=TIME_TOLERANCE)
    assert times[-1] == pytest.approx(start + (len(times) - 1) / 10, abs=TIME_TOLERANCE)
    first_index = anim.frame_indices()[0]
    assert abs(first_index - start * SRC_FPS) <= 1


def test_a_range_running_past_the_end_is_clipped(source, tmp_path):
    result, anim = render_and_open(source, tmp_path / "out.gif", format="gif", width=160, fps=10, start=2.0,
                                   duration=5.0)
    assert result.clipped is True
    assert result.start_offset == pytest.approx(2.0, abs=0.02)
    assert result.end_offset == pytest.approx(SECONDS, abs=0.04)
    assert abs(len(anim.frames) - 10) <= 1
    assert anim.bar_times(SECONDS)[-1] == pytest.approx(2.9, abs=TIME_TOLERANCE)


def test_seeking_into_a_long_clip_with_sparse_keyframes_shows_the_right_moment(long_clip, tmp_path):
    # Keyframes every 10 s: starting at 37.3 s means decoding from 30 s and dropping the rest.
    result, anim = render_and_open(long_clip, tmp_path / "out.gif", format="gif", fps=5, start=37.3,
                                   duration=1.0)
    assert len(anim.frames) == 5
    assert result.start_offset == pytest.approx(37.3, abs=0.02)
    indices = anim.frame_indices()
    # The long clip runs at 10 fps: frame 373 is on screen at 37.3 s.
    assert indices[0] == pytest.approx(373, abs=1)
    assert indices == sorted(indices)
    assert indices[-1] - indices[0] == pytest.approx(8, abs=1)
