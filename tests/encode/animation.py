"""Reopen a rendered GIF or WebP with Pillow, the way a viewer would, for the render tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageSequence

from tests import clips

if TYPE_CHECKING:
    from media_jobs.encode import RenderResult


@dataclass
class Animation:
    """What a viewer gets from an animated image file."""

    format: str  # Pillow's: "GIF" or "WEBP"
    width: int
    height: int
    frames: list[np.ndarray]  # composited RGB, height x width x 3
    delays: list[int]  # ms per frame
    loop: int | None  # None when the file has no loop field (a GIF without NETSCAPE plays once)
    is_animated: bool
    size: int
    md5: str

    @property
    def duration_ms(self) -> int:
        return sum(self.delays)

    def bar_times(self, seconds: float) -> list[float]:
        """The source time shown by each frame's bar (see tests.clips)."""
        return [clips.read_bar_time(f, seconds) for f in self.frames]

    def frame_indices(self) -> list[int]:
        return [clips.read_frame_index(f) for f in self.frames]


def open_animation(path: str | Path) -> Animation:
    """Decode every frame of `path` with Pillow, composited as shown, with its delay and the loop field."""
    path = Path(path)
    data = path.read_bytes()
    with Image.open(path) as im:
        frames, delays = [], []
        for frame in ImageSequence.Iterator(im):
            # Pillow's WebP reader fills in the delay only once the frame is loaded.
            frames.append(np.asarray(frame.convert("RGB")))
            delays.append(int(frame.info.get("duration", 0) or 0))
        # Pillow keeps the first frame's info for GIF loop; WebP exposes it on the image.
        im.seek(0)
        loop = im.info.get("loop")
        return Animation(format=im.format, width=im.width, height=im.height, frames=frames,
                         delays=delays, loop=loop, is_animated=bool(getattr(im, "is_animated", False)),
                         size=len(data), md5=hashlib.md5(data).hexdigest())


def is_black(rgb: np.ndarray, tolerance: int = 24) -> bool:
    """Whether every pixel of an area is black, give or take dithering and compression noise."""
    return bool(rgb.size) and int(rgb.max()) <= tolerance


def render_and_open(src: str | Path, out: str | Path, **spec_fields) -> tuple["RenderResult", Animation]:
    """Render `src` with a spec built from `spec_fields` and reopen the output."""
    from media_jobs.encode import RenderSpec, render

    result = render(src, RenderSpec(**spec_fields), out)
    return result, open_animation(out)


def slot_sources(times: list[Fraction], k: int, rate: float, start: float = 0.0) -> set[int]:
    """Indices of the source frames that may fairly be shown in output slot `k`.

    Two rules are right: the frame on screen at `start + k / rate` (the latest that began by
    then), or FFmpeg's `fps` filter, which takes the latest frame whose time, rounded to the output
    grid, is not after slot k (30 -> 10 fps takes source frames 1, 4, 7 ...).
    """
    rate_q = Fraction(rate).limit_denominator(1001)
    start_q = Fraction(start).limit_denominator(100_000)
    at = start_q + k / rate_q
    on_screen = [i for i, t in enumerate(times) if t <= at]
    rounded = [i for i, t in enumerate(times) if t >= start_q and (t - start_q) * rate_q < k + Fraction(1, 2)]
    picks = set()
    if on_screen:
        picks.add(on_screen[-1])
    if rounded:
        picks.add(rounded[-1])
    return picks
