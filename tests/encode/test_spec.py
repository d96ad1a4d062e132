"""The template parameters' single validation routine and the time-range resolution."""

from __future__ import annotations

import math

import pytest

from media_jobs.encode import EncodeError, ErrorCode, RenderSpec
from media_jobs.encode import spec as spec_module

# (field, values that must pass, values that must fail), the range edges of every number.
RANGES = [
    ("width", [0, 32, 33, 640, 4096], [-1, 1, 31, 4097, 100.5, "320", None, True]),
    ("height", [0, 32, 4096], [-32, 31, 4097, 2.5]),
    ("width_percent", [0, 1, 50, 100], [-1, 101, 12.5]),
    ("height_percent", [0, 1, 100], [-1, 101]),
    ("fps", [1, 1.0, 12.5, 29.97, 60], [0, 0.99, 60.01, -10, math.nan, math.inf, "10", None, False]),
    ("interval_ms", [None, 10, 500, 60_000], [0, 9, 60_001, 100.5]),
    ("max_frames", [None, 1, 10_000], [0, -1, 10_001, 1.5]),
    ("playback_fps", [None, 0.1, 24, 240], [0, 0.09, 240.01, math.nan]),
    ("quality", [1, 75, 100], [0, 101, 50.5]),
    ("colors", [2, 16, 256], [0, 1, 257, 128.5]),
    ("loop", [0, 1, 65_535], [-1, 65_536, 0.5]),
    ("start", [0, 0.0, 12.345, -3, spec_module.OFFSET_MAX, -spec_module.OFFSET_MAX],
     [spec_module.OFFSET_MAX + 0.01, -(spec_module.OFFSET_MAX + 0.01), math.nan, None, "1"]),
    ("end", [None, 5, -1, spec_module.OFFSET_MAX], [spec_module.OFFSET_MAX + 1, math.inf]),
    ("duration", [None, 0.001, 3, spec_module.OFFSET_MAX], [0, -1, spec_module.OFFSET_MAX + 1, math.nan]),
    ("trim_end", [None, 0, 2.5, spec_module.OFFSET_MAX], [-0.001, spec_module.OFFSET_MAX + 1]),
]
CHOICES = [
    ("format", ["gif", "webp"], ["png", "GIF", "", None]),
    ("scale_mode", ["stretch", "fit", "fill", "crop"], ["zoom", "pad", None]),
    ("dither", ["none", "bayer", "floyd_steinberg", "sierra2_4a"], ["ordered", None]),
    ("palette_mode", ["global", "per_frame"], ["local", None]),
    ("lossless", [True, False], [1, 0, "yes", None]),
    ("resolution_adaptive", [True, False], [1, "true", None]),
]


def _cases(table, valid: bool):
    for name, good, bad in table:
        for value in good if valid else bad:
            yield pytest.param(name, value, id=f"{name}={value!r}")


def test_it_accepts_the_defaults():
    assert RenderSpec().errors() == {}
    assert RenderSpec().validate() == RenderSpec()


@pytest.mark.parametrize("name,value", list(_cases(RANGES + CHOICES, valid=True)))
def test_it_accepts_values_on_and_inside_the_range_edges(name, value):
    spec = RenderSpec(**{name: value})
    assert spec.errors() == {}


@pytest.mark.parametrize("name,value", list(_cases(RANGES + CHOICES, valid=False)))
def test_it_rejects_values_outside_the_range_edges_naming_the_field(name, value):
    spec = RenderSpec(**{name: value})
    assert name in spec.errors()
    with pytest.raises(EncodeError) as excinfo:
        spec.validate()
    assert excinfo.value.field == name
    expected = ErrorCode.INVALID_TIME_RANGE if name in {"start", "end", "duration", "trim_end"} else ErrorCode.INVALID_PARAMETER
    assert excinfo.value.code == expected
    assert excinfo.value.permanent


def test_zero_width_and_height_mean_follow_the_source_alone_or_together():
    assert RenderSpec(width=0, height=0).errors() == {}
    assert RenderSpec(width=320, height=0).errors() == {}
    assert RenderSpec(width=0, height=240).errors() == {}


def test_it_refuses_a_pixel_size_and_a_percentage_together():
    errors = RenderSpec(width=320, width_percent=50).errors()
    assert "width_percent" in errors
    assert "width_percent" in RenderSpec(height=240, height_percent=50).errors()
    assert RenderSpec(width_percent=50, height_percent=25).errors() == {}


def test_it_reports_every_problem_at_once():
    errors = RenderSpec(format="bmp", fps=0, colors=1, loop=-1).errors()
    assert {"format", "fps", "colors", "loop"} <= set(errors)
    assert all(isinstance(msg, str) and msg for msg in errors.values())


@pytest.mark.parametrize(
    "given,second",
    [
        ({"end": 5, "duration": 2}, "duration"),
        ({"end": 5, "trim_end": 1}, "trim_end"),
        ({"duration": 2, "trim_end": 1}, "trim_end"),
        ({"end": 5, "duration": 2, "trim_end": 1}, "duration"),
    ],
)
def test_end_duration_and_trim_end_are_mutually_exclusive(given, second):
    spec = RenderSpec(start=1, **given)
    assert second in spec.errors()
    with pytest.raises(EncodeError) as excinfo:
        spec.validate()
    assert excinfo.value.code == ErrorCode.INVALID_TIME_RANGE


@pytest.mark.parametrize("start,end", [(5, 5), (5, 4), (-2, -3), (-2, -2), (0, 0)])
def test_an_end_at_or_before_the_start_is_refused_when_both_count_from_the_same_side(start, end):
    spec = RenderSpec(start=start, end=end)
    assert "end" in spec.errors()
    assert spec.errors()["end"]


@pytest.mark.parametrize("start,end", [(-5, 3), (2, -1), (0, -0.5)])
def test_offsets_from_opposite_sides_wait_for_the_video_length(start, end):
    assert RenderSpec(start=start, end=end).errors() == {}


def test_from_mapping_ignores_unknown_keys_and_nones_for_defaulted_fields():
    spec = RenderSpec.from_mapping({"format": "webp", "width": None, "fps": 15, "colour": "red",
                                    "duration": None})
    assert spec == RenderSpec(format="webp", fps=15)
    assert RenderSpec.from_mapping(spec.to_dict()) == spec


def test_sample_and_play_rates_follow_interval_and_playback_fps():
    assert RenderSpec(fps=15).sample_rate == 15
    assert RenderSpec(fps=15, interval_ms=250).sample_rate == 4
    assert RenderSpec(fps=15).play_rate == 15
    assert RenderSpec(fps=15, playback_fps=30).play_rate == 30
    assert RenderSpec(interval_ms=500, playback_fps=10).play_rate == 10


class TestResolveRange:
    """Offsets against a 10 s video."""

    LENGTH = 10.0

    def resolve(self, **kwargs):
        return RenderSpec(**kwargs).resolve_range(self.LENGTH)

    def test_no_range_is_the_whole_video(self):
        r = self.resolve()
        assert (r.start, r.end, r.clipped) == (0.0, 10.0, False)
        assert r.duration == pytest.approx(10.0)

    @pytest.mark.parametrize(
        "kwargs,start,end",
        [
            ({"start": 2}, 2.0, 10.0),
            ({"start": 2, "end": 5}, 2.0, 5.0),
            ({"start": 2, "duration": 3}, 2.0, 5.0),
            ({"start": 2, "trim_end": 1.5}, 2.0, 8.5),
            ({"start": -3}, 7.0, 10.0),
            ({"start": -3, "duration": 1}, 7.0, 8.0),
            ({"start": 1, "end": -2}, 1.0, 8.0),
            ({"start": -4, "end": -1}, 6.0, 9.0),
            ({"start": -5, "end": 7}, 5.0, 7.0),
            ({"trim_end": 0}, 0.0, 10.0),
        ],
    )
    def test_negative_offsets_count_from_the_end(self, kwargs, start, end):
        r = self.resolve(**kwargs)
        assert r.start == pytest.approx(start)
        assert r.end == pytest.approx(end)
        assert r.clipped is False

    def test_a_negative_start_longer_than_the_video_starts_at_the_beginning(self):
        r = self.resolve(start=-25, duration=2)
        assert (r.start, r.end) == (0.0, 2.0)

    @pytest.mark.parametrize("kwargs", [{"start": 8, "duration": 5}, {"start": 8, "end": 12},
                                        {"end": 10.5}])
    def test_a_range_running_past_the_end_is_clipped_and_says_so(self, kwargs):
        r = self.resolve(**kwargs)
        assert r.end == pytest.approx(10.0)
        assert r.clipped is True

    @pytest.mark.parametrize(
        "kwargs,field",
        [
            ({"start": 10}, "start"),
            ({"start": 12, "duration": 1}, "start"),
            ({"start": 2, "trim_end": 9}, "trim_end"),
            ({"trim_end": 10}, "trim_end"),
            ({"start": 1, "end": -9.5}, "end"),
            ({"start": -3, "end": 5}, "end"),
        ],
    )
    def test_a_range_outside_the_video_is_an_invalid_time_range(self, kwargs, field):
        assert RenderSpec(**kwargs).errors() == {}
        with pytest.raises(EncodeError) as excinfo:
            self.resolve(**kwargs)
        assert excinfo.value.code == ErrorCode.INVALID_TIME_RANGE
        assert excinfo.value.field == field
        assert excinfo.value.message

    @pytest.mark.parametrize("length", [0, -1, math.nan, math.inf])
    def test_a_video_without_a_known_length_cannot_resolve_a_range(self, length):
        with pytest.raises(EncodeError) as excinfo:
            RenderSpec().resolve_range(length)
        assert excinfo.value.code == ErrorCode.INVALID_TIME_RANGE
