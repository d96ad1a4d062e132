"""render(): how many frames come out, how long each is shown, and which part of the video they show."""

from __future__ import annotations

import pytest

from tests import clips
from tests.encode.animation import render_and_open, slot_sources

SECONDS = 3.0
SRC_FPS = 30
SOURCE_TIMES = clips.frame_times(SRC_FPS, SECONDS)


def assert_slots_show(anim, times, rate, start=0.0):
    """Every output frame shows a source frame that belongs in its slot (read from the frame counter)."""
    shown = anim.frame_indices()
    for k, index in enumerate(shown):
        allowed = slot_sources(times, k, rate, start)
        assert index in allowed, f"frame {k} shows source frame {index}, expected one of {sorted(allowed)}; all: {shown}"


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
    assert_slots_show(anim, SOURCE_TIMES, 10)
    # The bar agrees with the counter: frame k shows about k / 10 s.
    for k, t in enumerate(anim.bar_times(SECONDS)):
        assert t == pytest.approx(k / 10, abs=0.05 + SECONDS / 159)


def test_a_variable_frame_rate_source_gives_evenly_timed_output(make_clip, tmp_path):
    src = make_clip(seconds=SECONDS, fps=SRC_FPS, vfr=True)
    result, anim = render_and_open(src, tmp_path / "out.gif", format="gif", width=160, fps=10, duration=2.0)
    assert abs(len(anim.frames) - 20) <= 1
    assert set(anim.delays) == {100}
    # Source frames last 1/60 to 1/10 s; each output slot still shows the frame of its moment.
    assert_slots_show(anim, clips.frame_times(SRC_FPS, SECONDS, vfr=True), 10)


def test_interval_ms_samples_one_frame_per_interval(source, tmp_path):
    result, anim = render_and_open(source, tmp_path / "out.gif", format="gif", width=160, interval_ms=250,
                                   duration=2.0)
    assert len(anim.frames) == 8
    assert set(anim.delays) == {250}
    assert_slots_show(anim, SOURCE_TIMES, 4)


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
    assert_slots_show(anim, SOURCE_TIMES, 10)


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
    assert_slots_show(anim, SOURCE_TIMES, 10, start)
    assert anim.bar_times(SECONDS)[0] == pytest.approx(start, abs=0.05 + SECONDS / 159)


def test_a_range_running_past_the_end_is_clipped(source, tmp_path):
    result, anim = render_and_open(source, tmp_path / "out.gif", format="gif", width=160, fps=10, start=2.0,
                                   duration=5.0)
    assert result.clipped is True
    assert result.start_offset == pytest.approx(2.0, abs=0.02)
    assert result.end_offset == pytest.approx(SECONDS, abs=0.04)
    assert abs(len(anim.frames) - 10) <= 1
    assert_slots_show(anim, SOURCE_TIMES, 10, 2.0)


def test_seeking_into_a_long_clip_with_sparse_keyframes_shows_the_right_moment(long_clip, tmp_path):
    # Keyframes every 10 s: starting at 37.3 s means decoding from 30 s and dropping the rest.
    result, anim = render_and_open(long_clip, tmp_path / "out.gif", format="gif", fps=5, start=37.3,
                                   duration=1.0)
    assert len(anim.frames) == 5
    assert result.start_offset == pytest.approx(37.3, abs=0.02)
    # The long clip runs at 10 fps: frame 373 is on screen at 37.3 s, 375 at 37.5 s ...
    assert_slots_show(anim, clips.frame_times(10, 60.0), 5, 37.3)


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_a_still_video_still_gives_an_animation_that_plays_for_the_range(make_clip, tmp_path, fmt):
    src = make_clip(seconds=SECONDS, content="still")
    result, anim = render_and_open(src, tmp_path / f"out.{fmt}", format=fmt, width=160, fps=10, duration=2.0)
    # Identical frames may be merged into longer ones, but the file must play for 2 s and say so.
    assert result.frames == len(anim.frames)
    assert anim.duration_ms == pytest.approx(2000, abs=10)
    assert result.duration == pytest.approx(2.0, abs=0.011)
