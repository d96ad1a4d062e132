"""The global GIF palette: palettegen's median cut refined by k-means on the clip's own pixels."""

from __future__ import annotations

import av
import numpy as np

from media_jobs.encode.gif import PaletteBuilder
from media_jobs.encode.palette import MIN_PER_FRAME, SAMPLE_TARGET, PixelSample, refine


def _bgra_pictures(path, width=160, height=120, count=20):
    with av.open(str(path)) as container:
        frames = []
        for frame in container.decode(video=0):
            frames.append(frame.reformat(width=width, height=height, format="bgra"))
            if len(frames) == count:
                return frames
    return frames


def _palette_rgb(palette: av.VideoFrame) -> np.ndarray:
    entries = palette.to_ndarray().reshape(-1, 4)
    return entries[entries[:, 3] == 255][:, [2, 1, 0]].astype(np.float32)


def _nearest_error(pictures, colours: np.ndarray) -> float:
    """Mean squared RGB error of every pixel shown in its nearest palette colour."""
    pixels = np.concatenate([p.to_ndarray()[..., [2, 1, 0]].reshape(-1, 3) for p in pictures]).astype(np.float32)
    distances = ((pixels[:, None, :] - colours[None, :, :]) ** 2).sum(axis=2)
    return float(distances.min(axis=1).mean())


def test_refined_palette_shows_the_clip_with_less_colour_error(make_clip):
    pictures = _bgra_pictures(make_clip(width=320, height=240, seconds=2, fps=10))
    plain, refined = (PaletteBuilder(160, 120, 64, frames=len(pictures)) for _ in range(2))
    for picture in pictures:
        plain.add(picture)
        refined.add(picture)
    before = _nearest_error(pictures, _palette_rgb(plain.median_cut()))
    after = _nearest_error(pictures, _palette_rgb(refined.palette()))
    assert after < 0.85 * before, (before, after)


def test_refine_moves_each_colour_to_the_middle_of_its_pixels():
    rng = np.random.default_rng(7)
    middles = np.array([[20, 30, 40], [200, 60, 90], [90, 220, 160]], np.float32)
    samples = np.concatenate([m + rng.normal(0, 6, (4000, 3)) for m in middles]).astype(np.float32)
    start = middles + np.array([[15, -12, 10], [-14, 9, 12], [11, 13, -15]], np.float32)
    moved = refine(start.astype(np.uint8), samples)
    assert np.abs(moved.astype(np.float32) - middles).max() <= 1.5
    # a colour no pixel is nearest to stays put
    lonely = np.vstack([start, [[250, 250, 250]]]).astype(np.uint8)
    assert refine(lonely, samples)[-1].tolist() == [250, 250, 250]


def test_sample_stays_bounded_when_more_frames_come_than_announced():
    sample = PixelSample(640, 360, frames=10)
    picture = av.VideoFrame.from_ndarray(np.full((360, 640, 4), 128, np.uint8), format="bgra")
    for _ in range(600):
        sample.add(picture)
    assert len(sample.pixels()) <= 2 * max(SAMPLE_TARGET, MIN_PER_FRAME * 64)
    assert len(sample.pixels()) >= SAMPLE_TARGET // 2


def test_transparent_pixels_are_not_sampled():
    rgba = np.zeros((120, 160, 4), np.uint8)
    rgba[:, :80] = (0, 0, 255, 255)  # opaque red (B, G, R, A)
    rgba[:, 80:] = (255, 0, 0, 0)  # fully transparent blue
    sample = PixelSample(160, 120, frames=1)
    sample.add(av.VideoFrame.from_ndarray(rgba, format="bgra"))
    assert sample.pixels().tolist() and all(p == [255.0, 0.0, 0.0] for p in sample.pixels().tolist())
