"""The player's strip of thumbnails: each tile shows the key frame it names, upright, in one JPEG."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from media_jobs.encode import EncodeError
from media_jobs.encode.strip import thumbnail_strip, tile_times
from tests.clips import make_text, read_bar_time


def _tiles(path, strip) -> list[np.ndarray]:
    sheet = np.asarray(Image.open(path).convert("RGB"))
    assert sheet.shape == (strip.tile_height, strip.tile_width * len(strip.times), 3)
    return [sheet[:, i * strip.tile_width:(i + 1) * strip.tile_width] for i in range(len(strip.times))]


def test_each_tile_shows_the_picture_at_the_time_it_names(make_clip, tmp_path):
    src = make_clip(seconds=6.0, fps=10, gop=10)  # 320x240, a key frame every second
    strip = thumbnail_strip(src, tmp_path / "strip.jpg", height=108)
    assert strip.times == (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
    assert (strip.tile_width, strip.tile_height) == (144, 108)
    for at, tile in zip(strip.times, _tiles(tmp_path / "strip.jpg", strip)):
        assert read_bar_time(tile, 6.0) == pytest.approx(at, abs=0.15)


def test_a_turned_video_gives_upright_portrait_tiles(make_clip, tmp_path):
    src = make_clip(seconds=3.0, fps=10, gop=10, rotation=90)  # shown 240x320
    strip = thumbnail_strip(src, tmp_path / "strip.jpg", height=108)
    assert (strip.tile_width, strip.tile_height) == (81, 108)
    for at, tile in zip(strip.times, _tiles(tmp_path / "strip.jpg", strip)):
        assert read_bar_time(tile, 3.0) == pytest.approx(at, abs=0.2)


def test_targets_sharing_a_key_frame_share_one_tile(make_clip, tmp_path):
    src = make_clip(seconds=6.0, fps=10, gop=30)  # key frames at 0 and 3 s only
    strip = thumbnail_strip(src, tmp_path / "strip.jpg")
    assert strip.times == (0.0, 3.0)


def test_tiles_aim_at_ten_parts_or_one_a_second():
    assert tile_times(60.0) == [3.0 + 6.0 * i for i in range(10)]
    assert tile_times(2.5) == pytest.approx([2.5 / 6, 2.5 / 2, 2.5 * 5 / 6])


def test_a_file_that_is_no_video_is_a_named_error_and_leaves_nothing(tmp_path):
    src = make_text(tmp_path / "notes.mp4")
    with pytest.raises(EncodeError) as caught:
        thumbnail_strip(src, tmp_path / "strip.jpg")
    assert caught.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]
