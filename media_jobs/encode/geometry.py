"""Output size from the spec and the source's display size: the 0 rules, percent, adaptive, scale modes.

Scale modes follow Alibaba OSS `scaletype`: stretch = exactly WxH, distorting; crop = cover WxH,
then centre-crop; fill = fit inside WxH, then pad with black to WxH; fit = fit inside WxH, and the
output is the fitted size.
"""

from __future__ import annotations

from dataclasses import dataclass

from .spec import SIZE_MAX, RenderSpec


@dataclass(frozen=True)
class Layout:
    """Where the picture goes: scale to `scaled`, then crop or pad (centred) to `out`."""

    scaled_w: int
    scaled_h: int
    out_w: int
    out_h: int

    @property
    def crops(self) -> bool:
        return self.scaled_w > self.out_w or self.scaled_h > self.out_h

    @property
    def pads(self) -> bool:
        return self.scaled_w < self.out_w or self.scaled_h < self.out_h


def _px(value: float) -> int:
    return max(1, int(round(value)))


def plan_layout(spec: RenderSpec, display_w: int, display_h: int) -> Layout:
    """The output layout for a source shown at `display_w` x `display_h` (upright, square pixels)."""
    if spec.width_percent or spec.height_percent:
        return _percent_layout(spec, display_w, display_h)
    width, height = spec.width, spec.height
    if spec.resolution_adaptive and display_h > display_w:
        # Width and height name the long and short edge: a portrait source keeps its orientation.
        width, height = height, width
    if not width and not height:
        return _clamped(display_w, display_h)
    if not height:
        return _clamped(width, _px(width * display_h / display_w))
    if not width:
        return _clamped(_px(height * display_w / display_h), height)
    if spec.scale_mode == "stretch":
        return Layout(width, height, width, height)
    fit = min(width / display_w, height / display_h)
    if spec.scale_mode in ("fit", "fill"):
        fitted_w = min(width, _px(display_w * fit))
        fitted_h = min(height, _px(display_h * fit))
        if spec.scale_mode == "fit":
            return Layout(fitted_w, fitted_h, fitted_w, fitted_h)
        return Layout(fitted_w, fitted_h, width, height)
    cover = max(width / display_w, height / display_h)
    return Layout(max(width, _px(display_w * cover)), max(height, _px(display_h * cover)),
                  width, height)


def _percent_layout(spec: RenderSpec, display_w: int, display_h: int) -> Layout:
    """OSS `pw`/`ph`: a percentage of the source; one alone keeps the aspect ratio."""
    pw = spec.width_percent or spec.height_percent
    ph = spec.height_percent or spec.width_percent
    return _clamped(_px(display_w * pw / 100), _px(display_h * ph / 100))


def _clamped(width: int, height: int) -> Layout:
    """Shrink (keeping the aspect ratio) a size derived from the source that exceeds the maximum."""
    if width > SIZE_MAX or height > SIZE_MAX:
        ratio = min(SIZE_MAX / width, SIZE_MAX / height)
        width, height = _px(width * ratio), _px(height * ratio)
    return Layout(width, height, width, height)
