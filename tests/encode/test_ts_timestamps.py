"""MPEG-TS and M2TS whose timestamps start late, wrap round the 33-bit clock or jump: the cover
and the render show the picture of the time asked for, counted from the file's first picture."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from media_jobs.encode import RenderSpec, probe, render, snapshot
from tests import clips

SECONDS = 3.0
CASES = {
    "starts at 600 s": dict(start=600),
    "M2TS starting at 10 h": dict(start=36_000, m2ts=True),
    "wraps after 1 s": dict(start=float(clips.TS_WRAP_SECONDS) - 1.0),
    "wraps after 2.5 s, with audio": dict(start=float(clips.TS_WRAP_SECONDS) - 2.5, audio=True),
}


@pytest.fixture(scope="module", params=list(CASES))
def ts_clip(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("ts") / "clip.ts"
    return clips.make_ts_clip(path, seconds=SECONDS, width=320, height=240, **CASES[request.param])


@pytest.mark.parametrize("at", [0.0, 0.5, 1.5, 2.6])
def test_the_cover_shows_the_picture_of_its_time(ts_clip, tmp_path, at):
    assert abs(probe(ts_clip).duration - SECONDS) < 0.05
    snapshot(ts_clip, tmp_path / "cover.jpg", at=at)
    with Image.open(tmp_path / "cover.jpg") as image:
        shown = clips.read_bar_time(np.asarray(image.convert("RGB")), SECONDS)
    assert abs(shown - at) < 0.06


def test_a_render_from_the_middle_shows_its_range(ts_clip, tmp_path):
    out = tmp_path / "out.gif"
    result = render(ts_clip, RenderSpec(format="gif", fps=10, start=1.2, duration=1.5), out)
    assert (result.frames, result.start_offset, result.end_offset) == (15, 1.2, 2.7)
    shown = [clips.read_bar_time(rgb, SECONDS) for _, rgb in clips.decode_rgb(out)]
    assert np.allclose(shown, [1.2 + k / 10 for k in range(15)], atol=0.06)


@pytest.mark.parametrize("jump_by", [30.0, -40.0])
def test_a_clip_whose_stamps_jump_still_gives_a_cover_and_a_render(tmp_path, jump_by):
    path = clips.make_ts_clip(tmp_path / "jump.ts", start=50, seconds=2.0, jump_at=1.0, jump_by=jump_by)
    assert snapshot(path, tmp_path / "cover.jpg") == (160, 120)
    result = render(path, RenderSpec(format="webp", fps=10, duration=1.0), tmp_path / "out.webp")
    assert result.frames >= 1
