"""Lossy WebP key frames: one every KEY_MAX frames of moving pictures, encoded once each, and none
re-sent for a still stretch."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import _webp

from media_jobs.encode import RenderSpec, render, webp
from media_jobs.encode.webpfile import read_chunks
from tests.clips import encode_pictures
from tests.encode.animation import open_animation
from tests.encode.test_webp_segments import _one_segment


def _frames(data: bytes) -> list[tuple[int, int, int, int, bool, bytes]]:
    """Each ANMF frame of a WebP file: x, y, width, height, whether it blends, and its picture."""
    frames = []
    for chunk in read_chunks(io.BytesIO(data)):
        if chunk.fourcc != b"ANMF":
            continue
        body = data[chunk.offset:chunk.offset + chunk.size]
        u24 = [int.from_bytes(body[i:i + 3], "little") for i in range(0, 15, 3)]
        frames.append((u24[0] * 2, u24[1] * 2, u24[2] + 1, u24[3] + 1, not body[15] & 0x02, bytes(body[16:])))
    return frames


def _record_pictures(monkeypatch: pytest.MonkeyPatch) -> list:
    """Keep each picture the segment hands to libwebp (the real conversion still runs)."""
    seen = []
    real = webp._rgba

    def recording(frame):
        seen.append(real(frame))
        return seen[-1]

    monkeypatch.setattr(webp, "_rgba", recording)
    return seen


def test_moving_pictures_get_a_key_frame_every_key_max_frames_as_one_libwebp_encoder_places_them(
        make_clip, tmp_path, monkeypatch):
    src = make_clip(seconds=2.0, fps=30, content="texture")
    _one_segment(monkeypatch)
    pictures = _record_pictures(monkeypatch)
    spec = RenderSpec(format="webp", width=240, fps=15, duration=2.0, quality=75)
    render(src, spec, tmp_path / "out.webp")
    ours = _frames((tmp_path / "out.webp").read_bytes())

    # The same pictures through a single libwebp encoder that places key frames itself.
    encoder = _webp.WebPAnimEncoder(pictures[0].size, 0, 0, False, webp.KEY_MIN, webp.KEY_MAX, False, 0)
    for k, picture in enumerate(pictures):
        encoder.add(picture.getim(), k * 67, False, 75, 100, webp.COMPRESSION_LEVEL)
    encoder.add(None, len(pictures) * 67, False, 75, 100, 0)
    theirs = _frames(encoder.assemble(b"", b"", b""))

    assert len(ours) == len(theirs) == 30
    width, height = pictures[0].size
    keys = [k for k, (x, y, w, h, blends, _) in enumerate(ours) if (x, y, w, h) == (0, 0, width, height)
            and not blends]
    assert keys == list(range(0, 30, webp.KEY_MAX))
    # Frame for frame the same pictures and placement: only the durations' rounding differs.
    assert [f[:5] for f in ours] == [f[:5] for f in theirs]
    assert [f[5] for f in ours] == [f[5] for f in theirs]


def _faint_noise(k: int, width: int = 160, height: int = 120) -> np.ndarray:
    """A still gradient under fresh noise of +-1 level every frame."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([40 + x, 60 + y, 200 - x / 2], axis=-1)
    rgb = rgb + np.random.default_rng(k).integers(-1, 2, (height, width, 1))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def test_a_still_stretch_is_not_sent_again_as_key_frames(tmp_path, monkeypatch):
    src = encode_pictures(tmp_path / "still.mp4", (_faint_noise(k) for k in range(30)), fps=10, crf=18)
    _one_segment(monkeypatch)
    render(src, RenderSpec(format="webp", width=160, fps=10, duration=3.0, quality=75), tmp_path / "out.webp")
    data = (tmp_path / "out.webp").read_bytes()
    frames = _frames(data)
    whole = [f for f in frames if f[:4] == (0, 0, 160, 120)]
    # 30 frames: a run of KEY_MAX each would send the picture 6 times. libwebp sends it again
    # where noise left a few pixels changed in 5 frames, as a single encoder does: at most twice.
    assert len(whole) <= 2, f"{len(whole)} whole-canvas frames for a still picture"
    assert len(data) < 3.5 * len(whole[0][5])
    anim = open_animation(tmp_path / "out.webp")
    assert anim.duration_ms == 3000


def test_runs_that_libwebp_merged_into_one_picture_join_into_one_animation(tmp_path, monkeypatch):
    # Compared with no tolerance, each faintly noisy frame counts as moving and every KEY_MAX
    # frames start a run; libwebp, tolerant, merges each run into one still picture.
    monkeypatch.setattr(webp, "_lossy_tolerance", lambda quality: 0)
    segment = webp._KeyedSegment(str(tmp_path / "out.webp"), 160, 120, webp.OutputFormat("bgra"), quality=75,
                                 lossless=False, loop=0)
    for k in range(12):
        rgb = _faint_noise(k)
        bgra = np.dstack([rgb[..., ::-1], np.full(rgb.shape[:2], 255, np.uint8)])
        segment.write(webp.av.VideoFrame.from_ndarray(np.ascontiguousarray(bgra), format="bgra"), 100 * k, 100)
    segment.close()

    frames = _frames((tmp_path / "out.webp").read_bytes())
    assert [f[:5] for f in frames] == [(0, 0, 160, 120, False)] * 3  # runs of 5, 5 and 2 frames
    anim = open_animation(tmp_path / "out.webp")
    assert anim.delays == [500, 500, 200]
    assert anim.loop == 0
