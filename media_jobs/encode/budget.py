"""The size budget: the ladder of ever-cheaper specs a render over `max_size_kb` tries, lowering
the knobs in the operator's order (`budget_order`), each to its floor before the next:

  quality  WebP quality 75 → 60 → 45 → 30 → 15 (lossless first becomes lossy at the set quality)
  colors   GIF palette 128 → 64 → 32 → 16
  fps      sampling rate × 0.75, × 0.5, × 0.33 (playback keeps real time unless it was set)
  size     output edges × 0.8, × 0.64, × 0.5, × 0.4 (not below 32 px)

Each rung names what it changed, so the output can say what was given up."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator

from .errors import EncodeError, ErrorCode
from .results import RenderResult
from .spec import COLORS_MIN, FPS_MIN, SIZE_MIN, RenderSpec

QUALITIES = (60, 45, 30, 15)
COLOURS = (128, 64, 32, 16)
RATE_FACTORS = (0.75, 0.5, 0.33)
SIZE_FACTORS = (0.8, 0.64, 0.5, 0.4)


def order(spec: RenderSpec) -> list[str]:
    return [k.strip() for k in spec.budget_order.split(",") if k.strip()]


def ladder(spec: RenderSpec, width: int, height: int) -> Iterator[tuple[RenderSpec, str]]:
    """Cheaper specs, each with the change it made; `width`×`height` is the first render's size."""
    current = spec
    for knob in order(spec):
        for cheaper, note in _rungs(knob, current, width, height):
            current = cheaper
            yield current, note


def _rungs(knob: str, spec: RenderSpec, width: int, height: int) -> Iterator[tuple[RenderSpec, str]]:
    if knob == "quality" and spec.format == "webp":
        if spec.lossless:
            spec = spec.replace(lossless=False)
            yield spec, f"lossless → quality {spec.quality}"
        for quality in QUALITIES:
            if quality < spec.quality:
                yield spec.replace(quality=quality), f"quality {spec.quality} → {quality}"
                spec = spec.replace(quality=quality)
    elif knob == "colors" and spec.format == "gif":
        for colours in COLOURS:
            if COLORS_MIN <= colours < spec.colors:
                yield spec.replace(colors=colours), f"colours {spec.colors} → {colours}"
                spec = spec.replace(colors=colours)
    elif knob == "fps":
        base = spec.sample_rate
        for factor in RATE_FACTORS:
            rate = max(FPS_MIN / 4, base * factor)
            if rate >= spec.sample_rate:
                continue
            # Sampling by interval keeps the timing exact at any rate; playback stays real time
            # unless the template set its own playback rate.
            cheaper = spec.replace(interval_ms=round(1000 / rate), fps=max(FPS_MIN, min(spec.fps, rate)))
            yield cheaper, f"fps {spec.sample_rate:.3g} → {cheaper.sample_rate:.3g}"
            spec = cheaper
    elif knob == "size":
        for factor in SIZE_FACTORS:
            w, h = max(SIZE_MIN, round(width * factor / 2) * 2), max(SIZE_MIN, round(height * factor / 2) * 2)
            if w >= width and h >= height:
                continue
            yield (spec.replace(width=w, height=h, width_percent=0, height_percent=0, resolution_adaptive=False,
                                scale_mode="stretch"),
                   f"size {width}×{height} → {w}×{h}")


def fit(spec: RenderSpec, first: RenderResult, render: Callable[[RenderSpec], RenderResult]) -> RenderResult:
    """Render down the ladder until a result is within `max_size_kb`; the result says what it
    lowered. None fitting is ResourceLimitExceeded naming the smallest size reached."""
    limit = spec.max_size_kb * 1024
    steps: list[str] = []
    smallest = first.size
    for cheaper, note in ladder(spec, first.width, first.height):
        steps.append(note)
        result = render(cheaper.validate())
        smallest = min(smallest, result.size)
        if result.size <= limit:
            return dataclasses.replace(result, budget_steps=tuple(steps))
    tried = "; ".join(steps) or f"nothing to lower in the order {spec.budget_order}"
    raise EncodeError(ErrorCode.RESOURCE_LIMIT_EXCEEDED,
                      f"max_size_kb: cannot fit in {spec.max_size_kb} KB; the smallest render was "
                      f"{math.ceil(smallest / 1024)} KB after {tried}", field="max_size_kb")
