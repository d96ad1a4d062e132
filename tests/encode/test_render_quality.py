"""render(): colours and detail survive, the quality knobs do what they say, the file loops."""

from __future__ import annotations

import pytest

from bench.metrics import psnr, ssim
from tests import clips
from tests.encode.animation import render_and_open

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


def best_ssim(frame, source_frames, t):
    """SSIM against the source frame on screen at `t`, allowing one frame either way for rounding."""
    k = round(t * SRC_FPS)
    return max(ssim(frame, source_frames[i]) for i in range(max(0, k - 1), min(len(source_frames), k + 2)))


@pytest.mark.parametrize("fmt,fields,threshold", [
    ("gif", {}, 0.90),
    ("gif", {"dither": "floyd_steinberg"}, 0.88),
    ("webp", {}, 0.93),
    ("webp", {"quality": 95}, 0.97),
])
def test_output_frames_resemble_the_source_frames_at_the_same_times(gradient, gradient_frames, tmp_path, fmt,
                                                                    fields, threshold):
    _, anim = render_and_open(gradient, tmp_path / f"out.{fmt}", format=fmt, fps=10, **fields)
    assert (anim.width, anim.height) == gradient_frames[0].shape[1::-1]
    scores = [best_ssim(frame, gradient_frames, k / 10) for k, frame in enumerate(anim.frames)]
    assert min(scores) >= threshold, f"SSIM per frame: {[round(s, 3) for s in scores]}"


def test_lossless_webp_is_near_exact(gradient, gradient_frames, tmp_path):
    _, lossless = render_and_open(gradient, tmp_path / "lossless.webp", format="webp", fps=5, duration=1.0,
                                  lossless=True)
    _, lossy = render_and_open(gradient, tmp_path / "lossy.webp", format="webp", fps=5, duration=1.0,
                               quality=75)
    for k, frame in enumerate(lossless.frames):
        reference = gradient_frames[round(k / 5 * SRC_FPS)]
        # Only the RGB conversion may round differently from ours: a level or two.
        assert psnr(frame, reference) >= 42
        assert psnr(frame, reference) > psnr(lossy.frames[k], reference) + 3


def test_webp_quality_trades_size_for_fidelity(gradient, gradient_frames, tmp_path):
    low, low_anim = render_and_open(gradient, tmp_path / "q20.webp", format="webp", fps=5, duration=1.0, quality=20)
    high, high_anim = render_and_open(gradient, tmp_path / "q95.webp", format="webp", fps=5, duration=1.0,
                                      quality=95)
    assert low.size < high.size * 0.7
    reference = gradient_frames[0]
    assert psnr(high_anim.frames[0], reference) > psnr(low_anim.frames[0], reference)


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


@pytest.mark.parametrize("fmt", ["gif", "webp"])
@pytest.mark.parametrize("loop", [0, 3])
def test_the_loop_count_is_written(make_clip, tmp_path, fmt, loop):
    src = make_clip(seconds=1.0)
    _, anim = render_and_open(src, tmp_path / f"out.{fmt}", format=fmt, width=80, fps=5, loop=loop)
    assert anim.loop == loop


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_the_output_is_flagged_animated(make_clip, tmp_path, fmt):
    src = make_clip(seconds=1.0)
    result, anim = render_and_open(src, tmp_path / f"out.{fmt}", format=fmt, width=80, fps=5)
    assert anim.format == fmt.upper()
    assert anim.is_animated
    assert len(anim.frames) == result.frames == 5
