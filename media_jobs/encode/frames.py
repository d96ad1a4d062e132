"""Decoding the frames a render needs: seek to the keyframe before the start, pick frames by timestamp.

Frame choice follows FFmpeg's `fps` filter with exact `Fraction` arithmetic: output slot k (at
start + k/rate) shows the latest source frame whose time is before start + (k + 1/2)/rate. So a
variable-frame-rate source gives evenly timed output and 30 -> 10 fps takes source frames 1, 4, 7.
Decoding stops as soon as the last slot is decided, so the cost follows the output's length.

Frames no slot will show (the pre-roll between the keyframe and the start, the frames between
the picked ones when the output rate is lower than the source's) are still needed as references
by the frames after them, but a frame nothing refers to is not: for those packets the decoder is
told to skip non-reference frames (`skip_frame=NONREF`), which at 30 -> 15 fps halves the
decoding work. Whether a frame is needed depends on when the next frame starts; packets arrive
in decode order, so a few are read ahead to know the presentation times around each one.
"""

from __future__ import annotations

import bisect
import math
import os
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterator

import av
import av.container
import av.error

from .errors import EncodeError, ErrorCode
from .probe import stream_rate
from .source import MAX_SOURCE_PIXELS, seek_to_start

# Corrupt packets in a row after which a stream counts as undecodable rather than damaged.
_MAX_BAD_PACKETS = 64
# A seek that lands after the requested start is tried again from up to this far before it.
_MAX_SEEK_BACK = Fraction(64)
# Packets read ahead of the one being decoded (more than any decoder's reordering depth), and
# presentation times remembered behind it, to find the time the next shown frame starts.
_LOOKAHEAD = 16
_HISTORY = 32

# Sources whose decoded pictures are this large (about 12 MB at 4K) are decoded with fewer
# pictures in flight: one frame thread a core, and no second decoder (`plan.py`).
LARGE_PICTURE_PIXELS = 2048 * 1152


def to_fraction(seconds: float) -> Fraction:
    """An exact fraction for a user-given number of seconds (milliseconds are plenty)."""
    return Fraction(seconds).limit_denominator(1_000_000)


@dataclass
class DecodeStats:
    """What decoding found, for the result and for error messages."""

    decoded: int = 0
    bad_packets: int = 0
    ended_early: bool = False  # the file ended (or broke off) before the range was covered
    last_time: Fraction | None = None
    last_duration: Fraction = Fraction(0)
    errors: list[str] = field(default_factory=list)


@dataclass
class SlotPlan:
    """The output grid: `count` slots, one every 1/rate seconds of source time from `start`."""

    start: Fraction
    rate: Fraction
    count: int

    def boundary(self, k: int) -> Fraction:
        return self.start + (2 * k + 1) / (2 * self.rate)

    def slot_time(self, k: int) -> Fraction:
        return self.start + k / self.rate


class FrameSource:
    """Iterates the source frames for each slot of a `SlotPlan`, decoding as little as possible."""

    def __init__(self, container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                 origin: Fraction, threads: bool = True):
        self.container = container
        self.stream = stream
        self.origin = origin
        self.stats = DecodeStats()
        self._plan: SlotPlan | None = None
        rate = stream_rate(stream)
        self._default_duration = 1 / rate if rate else Fraction(0)
        self.decoder = alpha_decoder(stream) or stream.codec_context
        # A second pass over the same stream finds the decoder open, already threaded.
        if threads and not self.decoder.is_open:
            self.decoder.thread_type = "AUTO"
            if self.decoder.width * self.decoder.height > LARGE_PICTURE_PIXELS:
                # FFmpeg's default is a frame thread more than there are cores, each holding a
                # picture: at 4K, one thread a core kept 4K -> 720p renders' wall time and cut
                # their peak RSS by 25-33 MB (GIF 380 -> 349 MB, WebP 428 -> 403 MB).
                self.decoder.thread_count = os.cpu_count() or 1

    def slots(self, plan: SlotPlan, first: int = 0,
              seek: Fraction | None = None) -> Iterator[tuple[int, av.VideoFrame]]:
        """Yield (slot index, frame) for slots `first`.. in order; the same frame may serve several.

        `seek` is where decoding starts (a key frame's time; default: the plan's start), for a
        part of the plan decoded by a second decoder. Stops early when the file ends before the
        plan is covered (`stats.ended_early`).
        """
        k = first
        prev: av.VideoFrame | None = None
        self._plan = plan
        for t, frame in self._decoded(plan.start if seek is None else seek):
            while k < plan.count and t >= plan.boundary(k):
                # Before the first frame arrives there is nothing earlier to show: it serves too.
                yield k, prev if prev is not None else frame
                k += 1
            prev = frame
            if k >= plan.count:
                return
        if prev is None:
            return
        # End of stream: the last frame stays on screen until its own end.
        end = (self.stats.last_time or Fraction(0)) + (self.stats.last_duration or self._default_duration)
        while k < plan.count and plan.slot_time(k) < end:
            yield k, prev
            k += 1
        if k < plan.count:
            self.stats.ended_early = True

    def _decoded(self, start: Fraction) -> Iterator[tuple[Fraction, av.VideoFrame]]:
        """Decoded frames with their time in seconds from the origin, non-decreasing.

        A seek should land on a key frame at or before `start`. Where it lands after (MPEG-TS
        seeks by bisecting on packet stamps and can stop at the next key frame; a bad index), it
        is tried again from further back, 1, 4, 16 and 64 s; where it finds no picture at all
        (camera MPEG-TS flags no key frame; stamps that jump back), decoding starts from the top.
        """
        # The first picture still serves the first slot when it comes before the slot's end.
        slack = 1 / (2 * self._plan.rate) if self._plan is not None else Fraction(0)
        back = Fraction(0)
        while start > 0 and back <= _MAX_SEEK_BACK:
            target = start - back
            if target <= 0 or not self._seek(target):
                break
            frames = self._frames()
            frame = next(frames, None)
            if frame is None:
                break
            t = self._frame_time(frame, None)
            if t <= start + slack:
                self._note(t, frame)
                yield t, frame
                yield from self._timed(frames, t)
                return
            frames.close()
            back = back * 4 if back else Fraction(1)
        if start > 0:
            self._rewind()
        yield from self._timed(self._frames(), None)

    def _timed(self, frames: Iterator[av.VideoFrame],
               last_t: Fraction | None) -> Iterator[tuple[Fraction, av.VideoFrame]]:
        for frame in frames:
            t = self._frame_time(frame, last_t)
            last_t = t
            self._note(t, frame)
            yield t, frame

    def _note(self, t: Fraction, frame: av.VideoFrame) -> None:
        previous = self.stats.last_time
        self.stats.decoded += 1
        self.stats.last_time = t
        duration = frame.duration
        tb = frame.time_base or self.stream.time_base
        own = Fraction(duration) * tb if duration and tb else Fraction(0)
        # FLV stamps 1 ms durations on 30 fps frames: trust the gap to the previous frame more.
        gap = t - previous if previous is not None else Fraction(0)
        self.stats.last_duration = max(own, gap)

    def _frame_time(self, frame: av.VideoFrame, last: Fraction | None) -> Fraction:
        tb = frame.time_base or self.stream.time_base
        pts = frame.pts if frame.pts is not None else frame.dts
        if pts is None or tb is None:
            # No timestamp at all: assume the stream's nominal rate after the previous frame.
            return (last + self._default_duration) if last is not None else Fraction(0)
        t = Fraction(pts) * tb - self.origin
        if last is not None and t < last:
            return last
        return t

    def _seek(self, start: Fraction) -> bool:
        tb = self.stream.time_base
        target = int((start + self.origin) / tb)
        try:
            self.container.seek(target, stream=self.stream, backward=True, any_frame=False)
        except av.error.FFmpegError:
            self._rewind()
            return False
        self.decoder.flush_buffers()
        return True

    def _rewind(self) -> None:
        rewind(self.container, self.stream)
        self.decoder.flush_buffers()

    def _needed(self, t: Fraction, t_next: Fraction | None) -> bool:
        """Whether the frame shown from `t` until `t_next` is the latest before some slot boundary."""
        plan = self._plan
        if plan is None or t_next is None:
            return True
        # The first boundary after t: start + (2k + 1) / (2 rate) > t.
        k = max(0, math.floor((t - plan.start) * plan.rate - Fraction(1, 2)) + 1)
        return k < plan.count and plan.boundary(k) <= t_next

    def _packets(self) -> Iterator[av.Packet]:
        """Packets of the stream from the current position; a damaged container ends the stream."""
        packets = self.container.demux(self.stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.MemoryError:
                raise
            except av.error.FFmpegError as exc:
                # Truncated or damaged container: keep what decoded so far.
                self.stats.ended_early = True
                self.stats.errors.append(f"reading stopped: {exc}")
                return
            yield packet

    def _with_skips(self) -> Iterator[tuple[av.Packet, bool]]:
        """Each packet, with whether a non-reference frame in it may be skipped."""
        tb = self.stream.time_base
        ahead: deque[av.Packet] = deque()
        seen: list[int] = []  # sorted pts of the packets around the current one
        behind: deque[int] = deque()
        source = self._packets()
        exhausted = False
        while True:
            while not exhausted and len(ahead) < _LOOKAHEAD:
                packet = next(source, None)
                if packet is None:
                    exhausted = True
                    break
                ahead.append(packet)
                if packet.pts is not None:
                    bisect.insort(seen, packet.pts)
            if not ahead:
                return
            packet = ahead.popleft()
            skippable = False
            if packet.pts is not None and tb is not None:
                if not packet.is_keyframe:
                    after = bisect.bisect_right(seen, packet.pts)
                    t = Fraction(packet.pts) * tb - self.origin
                    # With the next start unknown (end of the stream) the frame may be the last shown.
                    t_next = Fraction(seen[after]) * tb - self.origin if after < len(seen) else None
                    skippable = not self._needed(t, t_next)
                behind.append(packet.pts)
                if len(behind) > _HISTORY:
                    del seen[bisect.bisect_left(seen, behind.popleft())]
            yield packet, skippable

    def _frames(self) -> Iterator[av.VideoFrame]:
        """Every decodable frame from the current position; damaged packets are skipped."""
        bad_in_row = 0
        context = self.decoder
        skipping = False
        context.skip_frame = "DEFAULT"
        try:
            for packet, skippable in self._with_skips():
                if skippable != skipping:
                    # Frame threads copy this setting when the packet is handed to them.
                    context.skip_frame = "NONREF" if skippable else "DEFAULT"
                    skipping = skippable
                try:
                    frames = context.decode(packet)
                except av.error.MemoryError:
                    raise
                except av.error.FFmpegError as exc:
                    self.stats.bad_packets += 1
                    bad_in_row += 1
                    if bad_in_row >= _MAX_BAD_PACKETS:
                        self.stats.errors.append(f"too many damaged packets ({exc})")
                        break
                    continue
                bad_in_row = 0
                for frame in frames:
                    yield frame
            if skipping:
                context.skip_frame = "DEFAULT"
                skipping = False
            try:
                frames = context.decode(None)
            except av.error.MemoryError:
                raise
            except av.error.FFmpegError:
                frames = []
            yield from frames
        finally:
            if skipping:
                context.skip_frame = "DEFAULT"


# WebM keeps a VP8/VP9 picture's alpha plane in BlockAdditional side data, which FFmpeg's own
# decoders drop (the picture comes out opaque); the libvpx decoders read it and give yuva420p.
_ALPHA_DECODERS = {"vp8": "libvpx", "vp9": "libvpx-vp9"}


def has_alpha_plane(stream: av.video.stream.VideoStream) -> bool:
    """Whether the stream carries alpha its default decoder may not show (WebM `alpha_mode`)."""
    return stream.codec_context.name in _ALPHA_DECODERS and stream.metadata.get("alpha_mode") == "1"


def alpha_decoder(stream: av.video.stream.VideoStream) -> av.CodecContext | None:
    """A libvpx decoder for a VP8/VP9 stream with alpha, or None (no alpha, or no libvpx here)."""
    if not has_alpha_plane(stream):
        return None
    try:
        decoder = av.CodecContext.create(_ALPHA_DECODERS[stream.codec_context.name], "r")
    except (ValueError, av.codec.codec.UnknownCodecError):
        return None
    if stream.codec_context.extradata:
        decoder.extradata = stream.codec_context.extradata
    decoder.options = {"max_pixels": str(MAX_SOURCE_PIXELS)}  # as pick_video_stream caps the default one
    return decoder


def rewind(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> None:
    """Back to the start of the file, the decoder emptied, ready to decode from the top again."""
    try:
        seek_to_start(container, stream)
    except av.error.FFmpegError as exc:
        raise EncodeError(ErrorCode.DECODE_FAILED, f"cannot rewind the video ({exc})") from None
    stream.codec_context.flush_buffers()


def keyframe_split(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                   origin: Fraction, plan: SlotPlan, target: Fraction,
                   min_slots: int) -> tuple[int, Fraction] | None:
    """Where a second decoder can take over the plan: (first slot, key frame time) or None.

    The key frame nearest `target` (seconds from the origin) such that both parts keep at least
    `min_slots` slots. A slot whose boundary lies after the key frame shows that key frame or a
    later frame, so the second decoder, starting there, decides it alone. Finding the key frames
    costs two index seeks on `container`, which is left positioned anywhere.
    """
    best: tuple[int, Fraction] | None = None
    for backward in (True, False):
        t = _keyframe_near(container, stream, origin, target, backward)
        if t is None:
            continue
        first = math.floor((t - plan.start) * plan.rate - Fraction(1, 2)) + 1
        if min_slots <= first <= plan.count - min_slots and (best is None or abs(t - target) < abs(best[1] - target)):
            best = (first, t)
    return best


def keyframe_before(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                    origin: Fraction, t: Fraction) -> Fraction | None:
    """The time of the key frame decoding from `t` starts at, from the index; None if unknown."""
    return _keyframe_near(container, stream, origin, t, backward=True)


def _keyframe_near(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                   origin: Fraction, target: Fraction, backward: bool) -> Fraction | None:
    """The time of the key frame at or before (or after) `target`, from the index; None if unknown."""
    tb = stream.time_base
    if tb is None:
        return None
    try:
        container.seek(int((target + origin) / tb), stream=stream, backward=backward, any_frame=False)
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            # Without an index a seek may land anywhere: only a key frame with a time will do.
            if not packet.is_keyframe or packet.pts is None:
                return None
            return Fraction(packet.pts) * tb - origin
    except av.error.FFmpegError:
        return None
    return None
