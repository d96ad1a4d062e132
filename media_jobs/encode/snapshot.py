"""snapshot(path, out): a still JPEG cover from the video, upright, its longest edge at most `max_size`."""

from __future__ import annotations

import os
from fractions import Fraction

import av

from .errors import EncodeError, ErrorCode
from .frames import FrameSource, SlotPlan, to_fraction
from .geometry import Layout
from .probe import Orientation, frame_sar, rotation_cw
from .render import remove_quietly, temp_path_for
from .scaler import OutputFormat, Scaler
from .source import estimate_duration, named_errors, open_input, pick_video_stream, time_origin

JPEG_QUALITY = 85


def default_time(duration: float | None) -> float:
    """About 1 s in, or 10 % of the duration for short videos (whichever is smaller)."""
    if not duration or duration <= 0:
        return 0.0
    return min(1.0, 0.1 * duration)


def snapshot(path: str | os.PathLike, out: str | os.PathLike, at: float | None = None,
             max_size: int = 640) -> tuple[int, int]:
    """Write a JPEG of the frame shown at `at` seconds to `out`; return its (width, height)."""
    tmp = temp_path_for(out)
    try:
        return snapshot_to_temp(path, out, tmp, at, max_size)
    except BaseException:
        remove_quietly(tmp)
        raise


def snapshot_to_temp(path: str | os.PathLike, out: str | os.PathLike, tmp: str, at: float | None,
                     max_size: int) -> tuple[int, int]:
    """Write the JPEG to `tmp`, then move it to `out`. The caller removes `tmp` on failure."""
    if not isinstance(max_size, int) or max_size < 16:
        raise EncodeError(ErrorCode.INVALID_PARAMETER, "max_size must be a whole number of at least 16",
                          field="max_size")
    with named_errors("taking a snapshot"), open_input(path) as container:
        image = _grab(container, at, max_size)
    image.save(tmp, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    os.replace(tmp, os.fspath(out))
    return image.size


def _grab(container, at: float | None, max_size: int):
    stream = pick_video_stream(container)
    duration = estimate_duration(container, stream).seconds
    if at is None:
        at = default_time(duration)
    if at < 0 or (duration and at >= duration):
        if duration and at < 0 and -at < duration:
            at = duration + at
        else:
            raise EncodeError(ErrorCode.INVALID_TIME_RANGE,
                              f"{at:.3f} s is outside the video (0 to {duration or 0:.3f} s)", field="at")
    frame = frame_at(container, stream, to_fraction(at))
    if frame is None:
        raise EncodeError(ErrorCode.DECODE_FAILED, "no picture could be decoded at that time")
    orientation = Orientation(rotation_cw(frame), frame_sar(frame, stream))
    display_w, display_h = orientation.display_size(frame.width, frame.height)
    ratio = min(1.0, max_size / max(display_w, display_h))
    width, height = max(1, round(display_w * ratio)), max(1, round(display_h * ratio))
    scaler = Scaler(Layout(width, height, width, height), orientation.rotate, OutputFormat("rgb24"))
    return scaler(frame).to_image()


def frame_at(container, stream, at: Fraction) -> av.VideoFrame | None:
    """The picture shown `at` seconds into the video (decoded from the key frame before), or None."""
    source = FrameSource(container, stream, time_origin(container), threads=False)
    picked = next(source.slots(SlotPlan(at, Fraction(1000), 1)), None)
    return picked[1] if picked is not None else None
