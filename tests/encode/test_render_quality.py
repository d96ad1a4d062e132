"""render(): colours and detail survive, the quality knobs do what they say, the file loops."""

from __future__ import annotations

import pytest

from bench.metrics import psnr, ssim
from tests import clips
from tests.encode.animation import render_and_open, slot_sources

SRC_FPS = 30
# Source decode already differs by up to 3 levels; a wrong matrix or range moves a tone by 14+.
TONE_TOLERANCE = {"gif": 10, "webp": 10}


def assert_tones(frame, tolerance):
    found = clips.quadrant_colors(frame)
    for corner, expected in clips.TONES.items():
        assert clips.color_distance(found[corner], expected) <= tolerance, f"{corner}: {found[corner]} vs {expected}"


@pytest.mark.parametrize("fmt", ["gif", "webp"])
@pytest.mark.parametrize(
    "source",
    [
        {},
        {"colorspace": "bt709", "width": 640, "height": 360},
        {"color_range": "pc"},
        {"ten_bit": True},
        {"codec": "libvpx-vp9"},
        {"codec": "mjpeg", "pix_fmt": "yuvj420p"},
    ],
    ids=["bt601-sd", "bt709-hd", "full-range", "10-bit", "vp9", "mjpeg-full-range"],
)
def test_known_colour_patches_survive(make_clip, tmp_path, fmt, source):
    src = make_clip(content="tones", seconds=1.0, **source)
    _, anim = render_and_open(src, tmp_path / f"out.{fmt}", format=fmt, width=160, fps=5)
    for frame in anim.frames:
        assert_tones(frame, TONE_TOLERANCE[fmt])


@pytest.fixture(scope="module")
def gradient(make_clip):
    """2 s of a smooth, moving colour field: what GIF palettes and WebP's chroma find hard."""
    return make_clip(content="gradient", seconds=2.0, fps=SRC_FPS)


@pytest.fixture(scope="module")
def gradient_frames(gradient):
    return [rgb for _, rgb in clips.decode_rgb(gradient)]


@pytest.fixture(scope="module")
def texture(make_clip):
    """2 s of a detailed pattern scrolling ~11 px a frame: a frame from the wrong moment scores ~0.25."""
    return make_clip(content="texture", seconds=2.0, fps=SRC_FPS)


@pytest.fixture(scope="module")
def texture_frames(texture):
    return [rgb for _, rgb in clips.decode_rgb(texture)]


SOURCE_TIMES = clips.frame_times(SRC_FPS, 2.0)


def slot_ssim(frame, source_frames, k, rate):
    """SSIM against the source frame that belongs in output slot k (the better of the two fair picks)."""
    return max(ssim(frame, source_frames[i]) for i in slot_sources(SOURCE_TIMES, k, rate))


def slot_psnr(frame, source_frames, k, rate):
    return max(psnr(frame, source_frames[i]) for i in slot_sources(SOURCE_TIMES, k, rate))


# Thresholds sit ~0.04 under what the core scored when these were written (GIF 0.85-0.89 by
# dither, WebP q75 0.91, q95 0.94): error diffusion's noise costs SSIM on smooth blobs.
@pytest.mark.parametrize("fmt,fields,threshold", [
    ("gif", {}, 0.85),
    ("gif", {"dither": "floyd_steinberg"}, 0.81),
    ("gif", {"palette_mode": "per_frame"}, 0.84),
    ("webp", {}, 0.87),
    ("webp", {"quality": 95}, 0.90),
])
def test_output_frames_resemble_the_source_frames_at_the_same_times(texture, texture_frames, tmp_path, fmt,
                                                                    fields, threshold):
    _, anim = render_and_open(texture, tmp_path / f"out.{fmt}", format=fmt, fps=10, duration=1.0, **fields)
    assert (anim.width, anim.height) == texture_frames[0].shape[1::-1]
    scores = [slot_ssim(frame, texture_frames, k, 10) for k, frame in enumerate(anim.frames)]
    assert min(scores) >= threshold, f"SSIM per frame: {[round(s, 3) for s in scores]}"


def test_lossless_webp_is_near_exact(gradient, gradient_frames, tmp_path):
    _, lossless = render_and_open(gradient, tmp_path / "lossless.webp", format="webp", fps=5, duration=1.0,
                                  lossless=True)
    _, lossy = render_and_open(gradient, tmp_path / "lossy.webp", format="webp", fps=5, duration=1.0,
                               quality=75)
    for k, frame in enumerate(lossless.frames):
        # Only the RGB conversion may round differently from ours: a level or two.
        exact = slot_psnr(frame, gradient_frames, k, 5)
        assert exact >= 40
        assert exact > slot_psnr(lossy.frames[k], gradient_frames, k, 5) + 3


def test_webp_quality_trades_size_for_fidelity(gradient, gradient_frames, tmp_path):
    low, low_anim = render_and_open(gradient, tmp_path / "q20.webp", format="webp", fps=5, duration=1.0, quality=20)
    high, high_anim = render_and_open(gradient, tmp_path / "q95.webp", format="webp", fps=5, duration=1.0,
                                      quality=95)
    assert low.size < high.size * 0.7
    assert slot_psnr(high_anim.frames[0], gradient_frames, 0, 5) > slot_psnr(low_anim.frames[0], gradient_frames, 0, 5) + 1


def test_fewer_gif_colors_make_a_smaller_file(gradient, tmp_path):
    many, _ = render_and_open(gradient, tmp_path / "256.gif", format="gif", fps=5, duration=1.0, colors=256)
    few, few_anim = render_and_open(gradient, tmp_path / "16.gif", format="gif", fps=5, duration=1.0, colors=16,
                                    dither="none")
    assert few.size < many.size * 0.8
    distinct = {tuple(c) for c in few_anim.frames[0].reshape(-1, 3)}
    assert len(distinct) <= 16


@pytest.mark.parametrize("dither", ["none", "bayer", "floyd_steinberg", "sierra2_4a"])
@pytest.mark.parametrize("palette_mode", ["global", "per_frame"])
def test_every_dither_and_palette_mode_gives_a_good_gif(make_clip, tmp_path, dither, palette_mode):
    src = make_clip(content="tones", seconds=1.0)
    result, anim = render_and_open(src, tmp_path / "out.gif", format="gif", width=160, fps=5, dither=dither,
                                   palette_mode=palette_mode)
    assert len(anim.frames) == result.frames == 5
    assert_tones(anim.frames[-1], TONE_TOLERANCE["gif"])


# `loop` is how many times the animation plays, 0 for ever. WebP stores that number; GIF's
# NETSCAPE field counts repeats after the first play, and a GIF without it plays once.
@pytest.mark.parametrize(
    "fmt,loop,stored",
    [("gif", 0, 0), ("gif", 3, 2), ("gif", 1, None), ("webp", 0, 0), ("webp", 3, 3), ("webp", 1, 1)],
)
def test_the_loop_count_is_written(make_clip, tmp_path, fmt, loop, stored):
    src = make_clip(seconds=1.0)
    _, anim = render_and_open(src, tmp_path / f"out.{fmt}", format=fmt, width=80, fps=5, loop=loop)
    assert anim.loop == stored


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_the_output_is_flagged_animated(make_clip, tmp_path, fmt):
    src = make_clip(seconds=1.0)
    result, anim = render_and_open(src, tmp_path / f"out.{fmt}", format=fmt, width=80, fps=5)
    assert anim.format == fmt.upper()
    assert anim.is_animated
    assert len(anim.frames) == result.frames == 5
