"""snapshot(): a JPEG cover picture, upright, bounded in size, from the requested moment."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from media_jobs.encode import EncodeError, ErrorCode, snapshot
from tests import clips


def open_jpeg(path):
    with Image.open(path) as im:
        assert im.format == "JPEG"
        return np.asarray(im.convert("RGB"))


def test_it_writes_an_upright_jpeg_of_a_portrait_clip(make_clip, tmp_path):
    src = make_clip(width=320, height=240, seconds=1.0, rotation=90)
    out = tmp_path / "cover.jpg"
    size = snapshot(src, out)
    rgb = open_jpeg(out)
    assert tuple(size) == (240, 320) == (rgb.shape[1], rgb.shape[0])
    found = clips.quadrant_colors(rgb)
    for corner, expected in clips.QUADRANTS.items():
        assert clips.color_distance(found[corner], expected) <= 40, corner


def test_max_size_bounds_the_long_edge_and_keeps_the_aspect(make_clip, tmp_path):
    src = make_clip(width=640, height=360, seconds=1.0)
    out = tmp_path / "cover.jpg"
    assert tuple(snapshot(src, out, max_size=160)) == (160, 90)
    assert open_jpeg(out).shape[:2] == (90, 160)


def test_a_small_video_is_not_enlarged(make_clip, tmp_path):
    src = make_clip(width=192, height=144, seconds=1.0)
    assert tuple(snapshot(src, tmp_path / "cover.jpg", max_size=640)) == (192, 144)


@pytest.mark.parametrize("at", [0.5, 1.5])
def test_it_shows_the_requested_moment(make_clip, tmp_path, at):
    src = make_clip(seconds=2.0, fps=30)
    out = tmp_path / "cover.jpg"
    snapshot(src, out, at=at)
    assert clips.read_bar_time(open_jpeg(out), 2.0) == pytest.approx(at, abs=1 / 30 + 2 / 319 + 0.01)


def test_snapshot_of_an_empty_file_is_empty_file(empty_file, tmp_path):
    out_dir = tmp_path
    out = out_dir / "cover.jpg"
    with pytest.raises(EncodeError) as excinfo:
        snapshot(empty_file, out)
    assert excinfo.value.code == ErrorCode.EMPTY_FILE
    assert list(out_dir.iterdir()) == []


def test_snapshot_past_the_end_is_invalid_time_range(make_clip, tmp_path):
    out_dir = tmp_path
    out = out_dir / "cover.jpg"
    with pytest.raises(EncodeError) as excinfo:
        snapshot(make_clip(seconds=1.0), out, at=5.0)
    assert excinfo.value.code == ErrorCode.INVALID_TIME_RANGE
    assert list(out_dir.iterdir()) == []
