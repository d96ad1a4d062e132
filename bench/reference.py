"""Reference frames for a case and the scoring of one output against them.

Reference for output slot k: the source frame that FFmpeg's `fps` filter picks for slot k (the
latest frame whose time, relative to the start and rounded half away from zero onto the output
grid, is <= k), converted with its own colour matrix and range and scaled by swscale lanczos
to the output size, as RGB. The arithmetic is exact (`Fraction`): with floats, 1/30 * 15 + 0.5
lands on the wrong side and a third of the frames come out one source frame early.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange, Interpolation, VideoReformatter

from .metrics import iter_animation, psnr, ssim

ALIGN_WINDOW = 2  # neighbouring source frames each side searched by the alignment check


def round_half_away(x: Fraction) -> int:
    """Round like FFmpeg's AV_ROUND_NEAR_INF."""
    return math.floor(x + Fraction(1, 2)) if x >= 0 else -math.floor(-x + Fraction(1, 2))


@dataclass
class Reference:
    """Scaled RGB source frames of a case's window and which one each output slot shows."""

    frames: list[np.ndarray]  # every decoded source frame in [start, start + duration)
    picks: list[int]  # picks[k] = index into frames for output slot k
    size: tuple[int, int]

    @property
    def expected_count(self) -> int:
        return len(self.picks)


def build_reference(src: Path, start: Fraction, duration: Fraction, fps: Fraction,
                    width: int, height: int) -> Reference:
    """Decode [start, start + duration) of src and pick the reference frame of every output slot."""
    slots = round_half_away(duration * fps)
    frames: list[np.ndarray] = []
    grid: list[int] = []
    reformatter = VideoReformatter()
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = stream.time_base
        first = stream.start_time or 0
        container.seek(int(start / tb) + first, stream=stream, backward=True)
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            rel = (frame.pts - first) * tb - start
            if rel < 0:
                continue
            if rel >= duration:
                break
            rng = frame.color_range if frame.color_range in (ColorRange.MPEG, ColorRange.JPEG) else None
            if frame.format.name.startswith("yuvj"):
                rng = ColorRange.JPEG
            rgb = reformatter.reformat(frame, width=width, height=height, format="rgb24",
                                       interpolation=Interpolation.LANCZOS, src_color_range=rng,
                                       dst_color_range=ColorRange.JPEG)
            frames.append(rgb.to_ndarray())
            grid.append(round_half_away(rel * fps))
    picks: list[int] = []
    for k in range(slots):
        shown = [i for i, g in enumerate(grid) if g <= k]
        if shown:
            picks.append(shown[-1])
    return Reference(frames, picks, (width, height))


@dataclass
class Score:
    """What a viewer would notice about one output file."""

    frames: int = 0
    duration_ms: int = 0
    width: int = 0
    height: int = 0
    loop: int | None = None
    ssim: float | None = None
    psnr: float | None = None
    aligned: float | None = None
    flags: list[str] = field(default_factory=list)


def _loop_of(path: Path) -> int | None:
    from PIL import Image

    with Image.open(path) as im:
        value = im.info.get("loop")
        return int(value) if value is not None else None


def score_output(path: Path, ref: Reference, fps: Fraction, quality: bool = True,
                 threads: int = 2) -> Score:
    """Count, time and (when quality) compare every frame of an output with its reference."""
    result = Score()
    decoded = list(iter_animation(path))
    frames = [f for f, _ in decoded]
    delays = [d for _, d in decoded]
    result.frames, result.duration_ms = len(frames), sum(delays)
    if frames:
        result.height, result.width = frames[0].shape[:2]
    result.loop = _loop_of(path)
    expected_ms = 1000.0 * ref.expected_count / float(fps)
    if result.frames != ref.expected_count:
        result.flags.append(f"frames {result.frames} != {ref.expected_count}")
    if abs(result.duration_ms - expected_ms) > 500.0 / float(fps):
        result.flags.append(f"duration {result.duration_ms} ms != {expected_ms:.0f}")
    # A GIF without the NETSCAPE extension (loop None) plays once too.
    if result.loop != 0:
        result.flags.append(f"loop={result.loop} (not forever)")
    if (result.width, result.height) != ref.size:
        result.flags.append(f"size {result.width}x{result.height} != {ref.size[0]}x{ref.size[1]}")
        return result
    if not quality or not frames:
        return result
    n = min(len(frames), len(ref.picks))

    def one(k: int) -> tuple[float, float, bool]:
        out = frames[k]
        want = ref.picks[k]
        best, best_mse = want, math.inf
        for j in range(max(0, want - ALIGN_WINDOW), min(len(ref.frames), want + ALIGN_WINDOW + 1)):
            d = out.astype(np.int16) - ref.frames[j].astype(np.int16)
            mse = float(np.mean(d.astype(np.float32) ** 2))
            if mse < best_mse:
                best, best_mse = j, mse
        return ssim(out, ref.frames[want]), psnr(out, ref.frames[want]), best == want

    with ThreadPoolExecutor(threads) as pool:
        scored = list(pool.map(one, range(n)))
    result.ssim = float(np.mean([s for s, _, _ in scored]))
    # Identical frames have infinite PSNR; cap at 100 dB so a mean stays finite.
    result.psnr = float(np.mean([min(p, 100.0) for _, p, _ in scored]))
    result.aligned = sum(1 for _, _, a in scored if a) / n
    if result.aligned < 0.9:
        result.flags.append(f"aligned {result.aligned:.0%}")
    return result
