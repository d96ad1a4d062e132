"""GIF frames dithered in two halves, one per core: the same bytes as dithering them one after another."""

from __future__ import annotations

import hashlib

import pytest

from media_jobs.encode import RenderSpec, gif, render


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("fields", [
    dict(dither="bayer"),
    dict(dither="sierra2_4a"),
    dict(dither="none", colors=16),
    # Played at 240 frames a second: GIF shows at most 100, so some frames are left out, some
    # of them at the seam between the halves.
    dict(dither="bayer", fps=30, playback_fps=240),
])
def test_two_halves_write_the_bytes_one_encoder_writes(make_clip, tmp_path, monkeypatch, fields):
    src = make_clip(seconds=2.0, fps=30, content="texture")
    spec = RenderSpec(**{"format": "gif", "width": 160, "fps": 15, "duration": 2.0, **fields})
    with monkeypatch.context() as patch:
        patch.setattr(gif, "_WORKERS", 1)  # one ditherer, frame after frame
        one = render(src, spec, tmp_path / "one.gif")
    halves = render(src, spec, tmp_path / "halves.gif")
    assert _md5(tmp_path / "halves.gif") == _md5(tmp_path / "one.gif")
    assert halves.to_dict() == one.to_dict()
    assert halves.frames == one.frames > 8


def test_the_second_half_starts_from_the_last_frame_shown_before_it(make_clip, tmp_path, monkeypatch):
    # A still picture: every frame after the first keeps all of what is shown, which only comes
    # out the same if the second half's ditherer (paletteuse's diff mode) saw the frame before it.
    src = make_clip(seconds=2.0, fps=10, content="still")
    spec = RenderSpec(format="gif", width=120, fps=10, duration=2.0)
    with monkeypatch.context() as patch:
        patch.setattr(gif, "_WORKERS", 1)
        render(src, spec, tmp_path / "one.gif")
    render(src, spec, tmp_path / "halves.gif")
    assert _md5(tmp_path / "halves.gif") == _md5(tmp_path / "one.gif")
