"""Image quality metrics and an animation reader for the benchmark and the tests.

`ssim` is Wang et al.'s SSIM (2004) with an 11x11 gaussian window (sigma 1.5), K1 0.01, K2 0.03,
L 255, population covariances, the border of half a window dropped, averaged over R, G and B:
the same figure as scikit-image's `structural_similarity(..., channel_axis=2,
gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)` to within 1e-5 (computed in float32).
`psnr` is over all three channels at once. Both take uint8 HxWx3 arrays of the same shape.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence
from scipy import ndimage

_SIGMA = 1.5
# truncate 3.5 gives radius int(3.5 * 1.5 + 0.5) = 5, the 11x11 window of the paper.
_TRUNCATE = 3.5
_RADIUS = 5
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"expected HxWx3 arrays, got {a.shape}")


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM over R, G, B of two uint8 HxWx3 images (1.0 means identical)."""
    _check_pair(a, b)
    if min(a.shape[0], a.shape[1]) < 2 * _RADIUS + 1:
        raise ValueError(f"images smaller than the {2 * _RADIUS + 1}px SSIM window: {a.shape}")
    # Channels first so the filter runs along contiguous rows. float32 halves the time and stays
    # within 1e-5 of the float64 result: E[x^2] - E[x]^2 loses ~0.01 at most, against C2 = 58.5.
    x = a.transpose(2, 0, 1).astype(np.float32)
    y = b.transpose(2, 0, 1).astype(np.float32)
    # All five local moments in one filter call; sigma 0 on the first axis keeps the channels
    # (and the moment kinds) apart.
    stack = np.concatenate((x, y, x * x, y * y, x * y), axis=0)
    f = ndimage.gaussian_filter(stack, sigma=(0, _SIGMA, _SIGMA), truncate=_TRUNCATE, mode="reflect")
    mu_x, mu_y, xx, yy, xy = (f[3 * i:3 * i + 3] for i in range(5))
    var_x = xx - mu_x * mu_x
    var_y = yy - mu_y * mu_y
    cov = xy - mu_x * mu_y
    num = (2 * mu_x * mu_y + _C1) * (2 * cov + _C2)
    den = (mu_x * mu_x + mu_y * mu_y + _C1) * (var_x + var_y + _C2)
    smap = num / den
    r = _RADIUS
    return float(smap[:, r:-r, r:-r].mean(dtype=np.float64))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB over all channels of two uint8 HxWx3 images; inf when they are identical."""
    _check_pair(a, b)
    diff = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(diff * diff))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(255.0 * 255.0 / mse)


def iter_animation(path: str | Path) -> Iterator[tuple[np.ndarray, int]]:
    """Yield (RGB frame as uint8 HxWx3, display time in ms) for each frame of a GIF or WebP.

    Pillow composites each frame onto the canvas (GIF disposal, WebP blending), so every
    frame is what a viewer shows at that moment.
    """
    with Image.open(path) as im:
        for frame in ImageSequence.Iterator(im):
            # WebP sets the frame's duration when the frame loads, so read it after convert().
            rgb = np.asarray(frame.convert("RGB"))
            yield rgb, int(frame.info.get("duration", 0) or 0)


def read_animation(path: str | Path) -> tuple[list[np.ndarray], list[int]]:
    """Read every frame of a GIF or animated WebP as RGB arrays, with per-frame delays in ms."""
    frames: list[np.ndarray] = []
    delays: list[int] = []
    for frame, delay in iter_animation(path):
        frames.append(frame)
        delays.append(delay)
    return frames, delays
