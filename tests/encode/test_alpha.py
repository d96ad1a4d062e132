"""Transparency is kept: a VP8 or VP9 WebM with alpha, a still range of PNG pictures with alpha and a
transparent animated GIF give a WebP with alpha and a GIF whose pixels under alpha 128 are its
transparent colour, frame by frame."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from media_jobs.encode import RenderSpec, render
from tests.clips import alpha_at, has_encoder, make_alpha_clip

pytestmark = pytest.mark.skipif(not has_encoder("libvpx-vp9"), reason="no libvpx-vp9 in this PyAV build")

TRANSPARENT_GIF = Path("/work/shared/media/animated_gif_314x273_transparent_30frames.gif")


@pytest.fixture(scope="module", params=["libvpx-vp9", "libvpx"])
def alpha_clip(tmp_path_factory, request) -> Path:
    return make_alpha_clip(tmp_path_factory.mktemp("alpha") / "alpha.webm", codec=request.param)


def _alphas(path: Path) -> list[np.ndarray]:
    with Image.open(path) as image:
        frames = []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGBA"))[..., 3])
        return frames


@pytest.mark.parametrize("fmt,options", [("webp", {}), ("webp", {"lossless": True}), ("gif", {}),
                                         ("gif", {"palette_mode": "per_frame"})])
def test_a_vp8_or_vp9_webm_with_alpha_stays_transparent(alpha_clip, tmp_path, fmt, options):
    out = tmp_path / f"out.{fmt}"
    result = render(alpha_clip, RenderSpec(format=fmt, fps=10, duration=2.0, **options), out)
    alphas = _alphas(out)
    assert result.frames == len(alphas) == 20
    for index, alpha in enumerate(alphas):
        wanted = alpha_at(96, 64, index).astype(int)
        if fmt == "gif":
            # One transparent index: under 128 is transparent, the rest opaque.
            agree = ((alpha >= 128) == (wanted >= 128)).mean()
            assert agree > 0.97, f"frame {index}: {agree:.3f} of pixels agree"
            assert set(np.unique(alpha)) <= {0, 255}
        else:
            # Lossy WebP: alpha within a small error, edges aside.
            assert np.median(np.abs(alpha.astype(int) - wanted)) <= 4, f"frame {index}"
            square = alpha[28:36, 2 * index + 4:2 * index + 12].astype(int)
            assert abs(square.mean() - 96) < 16, f"frame {index}: the half-transparent square is {square.mean():.0f}"
        assert (alpha[:8, :8] < 128).all(), f"frame {index}: the background is not transparent"


@pytest.mark.parametrize("opaque", [range(6), range(10, 20)], ids=["turns-transparent", "turns-opaque"])
def test_a_gif_whose_source_turns_transparent_or_opaque_midway_shows_each_frame_right(tmp_path, opaque):
    # A transparent pixel shows what is under it: before the first transparent frame, and after
    # a transparent one, the canvas has to be cleared. FFmpeg's GIF encoder alone showed the
    # opaque frames through (96-100 % opaque where 24 % should be) and left holes where the
    # clip turned opaque (80-85 % opaque), in Chromium as in FFmpeg's decoder.
    src = make_alpha_clip(tmp_path / "turning.webm", opaque_frames=opaque)
    out = tmp_path / "out.gif"
    render(src, RenderSpec(format="gif", fps=10, duration=2.0), out)
    # Pillow cannot show transparency that starts after the first frame; FFmpeg's decoder follows
    # the GIF specification here, as browsers do.
    with av.open(str(out)) as container:
        alphas = [f.to_ndarray(format="rgba")[..., 3] for f in container.decode(video=0)]
    assert len(alphas) == 20
    for index, alpha in enumerate(alphas):
        if index in opaque:
            assert (alpha == 255).all(), f"frame {index} is not opaque"
            continue
        agree = ((alpha >= 128) == (alpha_at(96, 64, index) >= 128)).mean()
        assert agree > 0.97, f"frame {index}: {agree:.3f} of pixels agree"
        assert (alpha[:8, :8] == 0).all(), f"frame {index}: the background is not transparent"


def _still_png_clip(path: Path) -> Path:
    """PNG pictures in QuickTime, every one the same: a red box on a transparent background."""
    rgba = np.zeros((64, 96, 4), np.uint8)
    rgba[16:48, 24:72] = (200, 40, 40, 255)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("png", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "rgba"
        for index in range(10):
            frame = av.VideoFrame.from_ndarray(rgba, format="rgba")
            frame.pts, frame.time_base = index, Fraction(1, 10)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.mark.parametrize("options", [{}, {"lossless": True}])
def test_a_still_range_with_alpha_stays_transparent_in_webp(tmp_path, options):
    # libwebp's animation encoder can drop the alpha of a lossy animation of one distinct picture.
    out = tmp_path / "out.webp"
    result = render(_still_png_clip(tmp_path / "still.mov"), RenderSpec(format="webp", fps=10, duration=1.0,
                                                                        **options), out)
    assert result.duration == 1.0
    alpha = _alphas(out)[0]
    assert (alpha[16:48, 24:72] == 255).all() and (alpha[:16] == 0).all() and (alpha[48:] == 0).all()


@pytest.mark.skipif(not TRANSPARENT_GIF.exists(), reason="the shared media corpus is not on this machine")
@pytest.mark.parametrize("fmt", ["webp", "gif"])
def test_a_transparent_gif_stays_transparent(tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    render(TRANSPARENT_GIF, RenderSpec(format=fmt, fps=10, duration=3.0), out)
    source, rendered = _alphas(TRANSPARENT_GIF), _alphas(out)
    assert len(rendered) == 30
    for index in (0, 10, 29):
        agree = ((rendered[index] >= 128) == (source[index] >= 128)).mean()
        assert agree > 0.97, f"frame {index}: {agree:.3f} of pixels agree"
