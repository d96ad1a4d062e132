"""render() on bad input: a named error, and nothing left at or beside the output path."""

from __future__ import annotations

import pytest

from media_jobs.encode import EncodeError, ErrorCode, RenderSpec, render
from tests import clips


@pytest.fixture
def out_dir(tmp_path):
    path = tmp_path / "out"
    path.mkdir()
    return path


def render_fails(src, out_dir, spec=None, fmt="gif") -> EncodeError:
    """Render and return the EncodeError, checking that no output or temporary file is left."""
    out = out_dir / f"result.{fmt}"
    with pytest.raises(EncodeError) as excinfo:
        render(src, spec or RenderSpec(format=fmt, width=160, fps=5), out)
    assert not out.exists()
    assert list(out_dir.iterdir()) == [], "a temporary file was left beside the output"
    assert excinfo.value.message
    return excinfo.value


@pytest.fixture(scope="module")
def corrupt_clip(make_clip, clip_dir):
    """Valid headers, noise where the pictures should be."""
    return clips.make_corrupt_data(make_clip(seconds=1.0, faststart=True), clip_dir / "corrupt.mp4")


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_an_empty_file_is_empty_file(empty_file, out_dir, fmt):
    assert render_fails(empty_file, out_dir, fmt=fmt).code == ErrorCode.EMPTY_FILE


def test_a_text_file_is_an_invalid_video_format(text_file, out_dir):
    assert render_fails(text_file, out_dir).code == ErrorCode.INVALID_VIDEO_FORMAT


def test_a_file_cut_before_its_index_is_an_invalid_video_format(headless_clip, out_dir):
    assert render_fails(headless_clip, out_dir).code == ErrorCode.INVALID_VIDEO_FORMAT


def test_an_audio_only_file_has_no_video_stream(audio_only, out_dir):
    assert render_fails(audio_only, out_dir).code == ErrorCode.NO_VIDEO_STREAM


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_a_video_with_undecodable_pictures_is_decode_failed(corrupt_clip, out_dir, fmt):
    assert render_fails(corrupt_clip, out_dir, fmt=fmt).code == ErrorCode.DECODE_FAILED


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"start": 2.0}, "start"),
        ({"start": 5.0, "duration": 1.0}, "start"),
        ({"start": -0.5, "end": 0.2}, "end"),
        ({"trim_end": 3.0}, "trim_end"),
        ({"start": 1.0, "duration": 1.0, "end": 1.5}, "duration"),
    ],
)
def test_a_range_outside_the_video_is_invalid_time_range(make_clip, out_dir, fields, field):
    src = make_clip(seconds=2.0)
    error = render_fails(src, out_dir, RenderSpec(width=160, fps=5, **fields))
    assert error.code == ErrorCode.INVALID_TIME_RANGE
    assert error.field == field


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"fps": 0}, "fps"),
        ({"width": 8}, "width"),
        ({"format": "png"}, "format"),
        ({"colors": 1}, "colors"),
        ({"scale_mode": "zoom"}, "scale_mode"),
    ],
)
def test_invalid_parameters_are_refused_before_any_work(make_clip, out_dir, fields, field):
    error = render_fails(make_clip(seconds=2.0), out_dir, RenderSpec(**fields))
    assert error.code == ErrorCode.INVALID_PARAMETER
    assert error.field == field


def test_a_missing_source_is_resource_not_found(tmp_path, out_dir):
    assert render_fails(tmp_path / "nope.mp4", out_dir).code == ErrorCode.RESOURCE_NOT_FOUND


def test_a_truncated_video_gives_either_the_frames_it_has_or_a_named_error(truncated_clip, out_dir):
    out = out_dir / "result.gif"
    try:
        result = render(truncated_clip, RenderSpec(width=160, fps=5), out)
    except EncodeError as exc:
        assert exc.code in {ErrorCode.DECODE_FAILED, ErrorCode.INVALID_VIDEO_FORMAT}
        assert list(out_dir.iterdir()) == []
    else:
        assert out.exists() and [p.name for p in out_dir.iterdir()] == ["result.gif"]
        assert 1 <= result.frames <= 15
        assert result.size == out.stat().st_size


def test_a_failed_render_leaves_an_earlier_output_in_place_or_removes_it_whole(make_clip, out_dir):
    out = out_dir / "result.gif"
    render(make_clip(seconds=1.0), RenderSpec(width=80, fps=5), out)
    before = out.read_bytes()
    with pytest.raises(EncodeError):
        render(make_clip(seconds=1.0), RenderSpec(width=80, fps=5, start=30), out)
    assert [p.name for p in out_dir.iterdir()] in ([], ["result.gif"])
    if out.exists():
        assert out.read_bytes() == before

