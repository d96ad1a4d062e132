"""The global GIF palette: palettegen's median cut refined by k-means on the clip's own pixels."""

from __future__ import annotations

import importlib
from pathlib import Path

import av
import numpy as np
import pytest

from bench.metrics import iter_animation
from media_jobs.encode import RenderSpec, gif, plan, render
from media_jobs.encode.gif import PaletteBuilder
from media_jobs.encode.palette import MIN_PER_FRAME, SAMPLE_TARGET, PixelSample, SceneCuts, refine
from tests.clips import encode_pictures

render_module = importlib.import_module("media_jobs.encode.render")  # the package's `render` is the function


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
    samples = np.rint(np.concatenate([m + rng.normal(0, 6, (4000, 3)) for m in middles])).astype(np.float32)
    start = middles + np.array([[15, -12, 10], [-14, 9, 12], [11, 13, -15]], np.float32)
    moved = refine(start.astype(np.uint8), samples)
    assert np.abs(moved.astype(np.float32) - middles).max() <= 1.5


def test_a_colour_shown_often_pulls_its_palette_colour_as_hard_as_its_copies():
    # A flat background (900 pixels) and a slightly brighter detail (100): one palette colour
    # serves both and must sit at their mean by pixel count, 101, not halfway, 105.
    samples = np.array([[100, 100, 100]] * 900 + [[110, 100, 100]] * 100 + [[20, 200, 30]] * 50, np.float32)
    moved = refine(np.array([[90, 95, 105], [30, 190, 40]], np.uint8), samples)
    assert moved.tolist() == [[101, 100, 100], [20, 200, 30]]


def test_a_colour_nobody_uses_moves_to_the_pixels_worst_served():
    rng = np.random.default_rng(7)
    middles = np.array([[20, 30, 40], [200, 60, 90], [90, 220, 160], [250, 10, 250]], np.float32)
    sizes = (4000, 4000, 4000, 300)  # the last: a small, distant cluster no start colour is near
    samples = np.clip(np.rint(np.concatenate([m + rng.normal(0, 3, (n, 3)) for m, n in zip(middles, sizes)])), 0, 255)
    start = np.vstack([middles[:3], [[255, 255, 0]]]).astype(np.uint8)  # the last colour: no pixel near it
    moved = refine(start, samples.astype(np.float32)).astype(np.float32)
    assert np.abs(moved - middles).max() <= 2.0, moved


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


# A clip that cuts from a warm shot to a cool one, each a still gradient with a square moving on it.
CUT_FPS, CUT_FRAMES, CUT_AT = 10, 30, 15


def _shot_picture(k: int) -> np.ndarray:
    y, x = np.mgrid[0:120, 0:160].astype(np.float32)
    ramp = (x / 159.0)[..., None]
    if k < CUT_AT:
        rgb = (1 - ramp) * np.array([250, 120, 30]) + ramp * np.array([120, 20, 60])
    else:
        rgb = (1 - ramp) * np.array([20, 200, 180]) + ramp * np.array([30, 40, 220])
    rgb = rgb + (y / 119.0)[..., None] * 30
    left = 10 + 4 * (k % CUT_AT)
    rgb[50:70, left:left + 20] = 255
    return np.clip(rgb, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory) -> Path:
    return encode_pictures(tmp_path_factory.mktemp("cut") / "cut.mp4",
                           (_shot_picture(k) for k in range(CUT_FRAMES)), CUT_FPS, crf=12, gop=30)


def _cut_spec() -> RenderSpec:
    # 16 colours: too few for both shots at once, so one palette per shot shows.
    return RenderSpec(format="gif", width=160, fps=CUT_FPS, duration=CUT_FRAMES / CUT_FPS, colors=16)


def _errors(path: Path) -> list[float]:
    with av.open(str(path)) as container:  # FFmpeg's GIF decoder, as a player composes the frames
        shown = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    pillow = [f for f, _ in iter_animation(path)]
    assert len(shown) == len(pillow) == CUT_FRAMES
    for ours, theirs in zip(shown, pillow):
        assert np.array_equal(ours, theirs)  # two decoders agree on what every frame shows
    return [float(np.abs(f.astype(np.int16) - _shot_picture(k)).mean()) for k, f in enumerate(shown)]


@pytest.mark.parametrize("path", ["kept", "two passes"])
def test_each_shot_gets_its_own_palette_and_looks_closer_to_the_source(cut_clip, tmp_path, monkeypatch, path):
    if path == "two passes":  # as a clip too long to keep in memory is rendered
        for module in (render_module, plan):
            monkeypatch.setattr(module, "KEEP_BUDGET_BYTES", 0)
    result = render(cut_clip, _cut_spec(), tmp_path / "shots.gif")
    assert (result.frames, result.duration) == (CUT_FRAMES, CUT_FRAMES / CUT_FPS)
    with monkeypatch.context() as patch:
        patch.setattr(SceneCuts, "starts", lambda self: [0])  # one palette for the whole clip
        render(cut_clip, _cut_spec(), tmp_path / "one.gif")
    shots, one = _errors(tmp_path / "shots.gif"), _errors(tmp_path / "one.gif")
    assert np.mean(shots) < 0.8 * np.mean(one), (np.mean(shots), np.mean(one))
    assert np.mean(shots[CUT_AT:]) < 0.75 * np.mean(one[CUT_AT:])


def test_a_later_shot_writes_only_what_changed(cut_clip, tmp_path):
    render(cut_clip, _cut_spec(), tmp_path / "shots.gif")
    with av.open(str(tmp_path / "shots.gif")) as container:
        sizes = [packet.size for packet in container.demux(video=0) if packet.size]
    assert len(sizes) == CUT_FRAMES
    # The cut's first frame is whole; after it only the moving square is new.
    assert max(sizes[CUT_AT + 1:]) < 0.5 * sizes[CUT_AT], sizes


def test_two_halves_write_the_bytes_one_encoder_writes_across_shots(cut_clip, tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(gif, "_WORKERS", 1)
        render(cut_clip, _cut_spec(), tmp_path / "one.gif")
    for middle_shot_start in (CUT_AT - 2, CUT_AT, CUT_AT + 3):  # the halves meet before, at, after the cut
        with monkeypatch.context() as patch:
            patch.setattr(SceneCuts, "starts", lambda self, s=middle_shot_start: [0, s])
            patch.setattr(gif, "_WORKERS", 1)
            render(cut_clip, _cut_spec(), tmp_path / "one.gif")
            patch.setattr(gif, "_WORKERS", 2)
            render(cut_clip, _cut_spec(), tmp_path / "halves.gif")
        assert (tmp_path / "halves.gif").read_bytes() == (tmp_path / "one.gif").read_bytes()
