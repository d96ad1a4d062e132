"""What a render will do, decided before any picture is decoded: its range, its output slots and
whether a second decoder may take part of them. Carrying it out is `render`'s job."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction

import av.container

from .errors import EncodeError, ErrorCode
from .frames import LARGE_PICTURE_PIXELS, SlotPlan, has_alpha_plane, keyframe_before, keyframe_split, to_fraction
from .geometry import plan_layout
from .probe import frame_sar
from .results import RenderResult
from .source import estimate_duration, pick_video_stream, time_origin
from .spec import OUTPUT_FRAMES_MAX, RenderSpec, TimeRange

# A GIF with one palette for the range needs every picture before it can dither any: the scaled
# BGRA pictures are kept in memory up to this many bytes, else the range is decoded twice.
KEEP_BUDGET_BYTES = 160 * 1024 * 1024

# Two decoders: each part keeps at least this many output frames (for WebP each part starts a
# key frame of the animation).
MIN_PART_SLOTS = 8
# A second decoder holds its own reference and threading pictures: at 4K some 150 MB more.
SECOND_DECODER_MAX_PIXELS = LARGE_PICTURE_PIXELS


def has_alpha(pix_fmt: str) -> bool:
    return pix_fmt in ("bgra", "rgba", "argb", "abgr", "yuva420p", "pal8")


class RenderPlan:
    """The range of `spec` resolved against the video in `container`, cut into output slots."""

    def __init__(self, container: av.container.InputContainer, spec: RenderSpec):
        self.spec = spec
        self.stream = pick_video_stream(container)
        self.origin = time_origin(container)
        estimate = estimate_duration(container, self.stream)
        if estimate.seconds is None:
            raise EncodeError(ErrorCode.INVALID_TIME_RANGE, "the video has no known duration", field="start")
        self.range: TimeRange = spec.resolve_range(estimate.seconds)
        self.rate = to_fraction(spec.sample_rate)
        self.play_rate = to_fraction(spec.play_rate)
        start = to_fraction(self.range.start)
        count = max(1, round((to_fraction(self.range.end) - start) * self.rate))
        self.capped = bool(spec.max_frames and count > spec.max_frames)
        if self.capped:
            count = int(spec.max_frames)
        if count > OUTPUT_FRAMES_MAX:
            raise EncodeError(
                ErrorCode.INVALID_PARAMETER,
                f"{self.range.duration:.3f} s at {float(self.rate):g} frames a second is {count} frames; "
                f"at most {OUTPUT_FRAMES_MAX} are allowed (shorten the range or lower the rate)",
                field="fps",
            )
        self.slots = SlotPlan(start, self.rate, count)

    def wants_second_decoder(self) -> bool:
        ctx = self.stream.codec_context
        return not (self.slots.count < 2 * MIN_PART_SLOTS
                    or (ctx.format is not None and has_alpha(ctx.format.name)) or has_alpha_plane(self.stream)
                    or ctx.width * ctx.height > SECOND_DECODER_MAX_PIXELS)

    def keeps_frames(self) -> bool:
        """Whether a global-palette GIF keeps its frames (one decode) rather than decoding twice,
        judged before any frame is decoded: the larger output of either orientation."""
        ctx = self.stream.codec_context
        sar = frame_sar(None, self.stream)
        display = (max(1, round(ctx.width * sar)), ctx.height)
        area = max(layout.out_w * layout.out_h for layout in
                   (plan_layout(self.spec, *display), plan_layout(self.spec, *reversed(display))))
        return self.slots.count * area * 4 <= KEEP_BUDGET_BYTES

    def second_decoder(self, container: av.container.InputContainer) -> tuple[int, Fraction] | None:
        """Where a decoder of the second opening `container` takes over the slots, if anywhere.

        H.264 frame threads wait on each other's reference pictures, so one decoder keeps two
        cores about 70 % busy; two decoders on different key frame intervals do not wait at all.
        The second starts at the key frame nearest the middle of what is decoded (from the key
        frame before the start), so both decode about as many frames.
        """
        plan = self.slots
        stream = container.streams[self.stream.index]
        end = plan.slot_time(plan.count)
        first = keyframe_before(container, stream, self.origin, plan.start)
        target = ((first if first is not None else plan.start) + end) / 2
        return keyframe_split(container, stream, self.origin, plan, target, MIN_PART_SLOTS)


@dataclass
class Written:
    """What a strategy wrote: the frames and playback time as stored in the file."""

    frames: int
    ticks: int  # total playback time in the format's ticks
    ticks_per_second: int
    width: int
    height: int


def render_result(plan: RenderPlan, tmp: str, written: Written, emitted: int, ended_early: bool) -> RenderResult:
    """The result of a render of `plan` that handed `emitted` slots to the file `tmp`."""
    digest = hashlib.md5()
    size = 0
    with open(tmp, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    duration = written.ticks / written.ticks_per_second
    slots = plan.slots
    if emitted >= slots.count and not plan.capped:
        end = float(plan.range.end)
    else:
        end = float(slots.start + Fraction(emitted) / slots.rate)
    return RenderResult(
        container=plan.spec.format,
        width=written.width,
        height=written.height,
        frames=written.frames,
        fps=float(plan.play_rate),
        duration=round(duration, 3),
        bitrate=int(size * 8 / duration) if duration > 0 else 0,
        size=size,
        md5=digest.hexdigest(),
        start_offset=round(float(slots.start), 6),
        end_offset=round(end, 6),
        clipped=plan.range.clipped or ended_early,
    )
