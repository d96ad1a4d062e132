"""Animated WebP output through FFmpeg's libwebp_anim encoder and the webp muxer.

libwebp treats YUV input as BT.601 limited range, so lossy frames are scaled straight to that;
lossless frames are handed over as BGRA (libwebp's lossless mode is RGB).

libwebp's animation encoder is single-threaded and keeps every encoded frame in memory until it
assembles the file at the end. So the frames are cut into segments of a bounded length, each
encoded by a fresh encoder into its own file, two segments at a time on two threads (FFmpeg
releases the GIL while encoding), and the segments' frames are joined into one animation
(`webpfile.join_animations`). Each segment starts with a key frame; with moving pictures a key
frame costs what a difference frame does (measured: +0.01 % bytes for 2 segments of 1080p
footage), and renders are only cut into more than two segments when the pictures waiting for the
encoders would pass `SEGMENT_BUDGET_BYTES`.
"""

from __future__ import annotations

import bisect
import math
import os
import queue
import threading
from collections.abc import Callable
from fractions import Fraction

import av
import av.error

from .scaler import OutputFormat
from .timing import FrameClock
from .webpfile import ensure_animated, join_animations, set_total_duration

COMPRESSION_LEVEL = 4  # libwebp "method": 4 is cwebp's default speed/size balance
ENCODER_THREADS = 2
# Pictures handed to the encoders but not yet encoded, both encoders together.
SEGMENT_BUDGET_BYTES = 32 * 1024 * 1024
# Below this many frames per segment the extra key frames would cost more than the speed-up.
MIN_SEGMENT_FRAMES = 8
FIRST_SHARE = 0.6
_PUT_WAIT = 0.1


def webp_format(lossless: bool, alpha: bool) -> OutputFormat:
    """The pixel format the scaler should produce for libwebp."""
    if lossless:
        return OutputFormat("bgra")
    return OutputFormat("yuva420p" if alpha else "yuv420p", bt601_limited=True)


def segment_starts(count: int, width: int, height: int, fmt: OutputFormat) -> list[int]:
    """The index of each segment's first frame.

    Two segments when both fit the budget: the first encoder starts on the first decoded
    picture, the second only once decoding reaches its first frame, so the first segment takes
    `FIRST_SHARE` of the frames (measured on 480x270 output: the encoders then finish within
    20 ms of each other, 0.11 s apart with an even split). Longer renders are cut into segments
    as long as the budget allows, handed to the two encoders in turn.
    Pictures with alpha are not cut: a segment's first frame may then cover only part of the
    canvas, and the join could not clear what the previous segment left around it.
    """
    if fmt.pix_fmt == "yuva420p" or count < 2 * MIN_SEGMENT_FRAMES:
        return [0]
    frame_bytes = width * height * (4 if fmt.pix_fmt == "bgra" else 3 / 2)
    longest = max(MIN_SEGMENT_FRAMES, int(SEGMENT_BUDGET_BYTES // (ENCODER_THREADS * max(1.0, frame_bytes))) - 1)
    if count <= 2 * longest:
        first = min(longest, count - MIN_SEGMENT_FRAMES, math.ceil(count * FIRST_SHARE))
        return [0, max(first, count - longest)]
    return list(range(0, count, longest))


class _Segment:
    """One part of the animation, encoded into its own file by its own libwebp encoder."""

    def __init__(self, path: str, width: int, height: int, fmt: OutputFormat, *, quality: int,
                 lossless: bool, loop: int):
        self.path = path
        self._size = (width, height)
        self._loop = loop
        # WebP's loop count is the number of plays (0 = forever); FFmpeg's muxer default plays once.
        self._container = av.open(path, mode="w", format="webp", options={"loop": str(loop)})
        stream = self._container.add_stream("libwebp_anim")
        stream.width, stream.height, stream.pix_fmt = width, height, fmt.pix_fmt
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {
            "lossless": "1" if lossless else "0",
            "quality": str(quality if not lossless else 75),
            "compression_level": str(COMPRESSION_LEVEL),
        }
        self._stream = stream
        self._start: int | None = None
        self.delays: list[int] = []

    def write(self, frame: av.VideoFrame, pts: int, delay: int) -> None:
        if self._start is None:
            self._start = pts
        frame.pts = pts - self._start
        frame.time_base = Fraction(1, 1000)
        frame.duration = delay
        self.delays.append(delay)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        if self.delays:
            # FFmpeg's wrapper ends the last frame 1 ms after its start; a still range comes out
            # as a plain picture. Both are fixed per segment, before the join.
            set_total_duration(self.path, sum(self.delays))
            ensure_animated(self.path, *self._size, self.delays, self._loop)

    def abort(self) -> None:
        try:
            self._container.close()
        except av.error.FFmpegError:
            pass


class _EncoderThread:
    """Encodes the segments handed to it, one after another, in a thread of its own."""

    def __init__(self, name: str, capacity: int, make_segment, encoded):
        self._queue: queue.Queue = queue.Queue(maxsize=capacity)
        self._make_segment = make_segment
        self._encoded = encoded
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, item: tuple) -> None:
        """Hand over an item; re-raise the thread's error instead of waiting on a dead thread."""
        while True:
            if self.error is not None:
                raise self.error
            try:
                self._queue.put(item, timeout=_PUT_WAIT)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        segment: _Segment | None = None
        try:
            while not self._stop.is_set():
                try:
                    item = self._queue.get(timeout=_PUT_WAIT)
                except queue.Empty:
                    continue
                kind = item[0]
                if kind == "frame":
                    _, index, frame, pts, delay = item
                    if segment is None:
                        segment = self._make_segment(index)
                    segment.write(frame, pts, delay)
                    self._encoded()
                elif kind == "end":
                    if segment is not None:
                        done, segment = segment, None
                        done.close()
                else:  # "stop"
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the muxer, which re-raises it
            self.error = exc
        finally:
            if segment is not None:
                segment.abort()

    def finish(self) -> None:
        self.put(("stop",))
        self._thread.join()
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        self._stop.set()
        self._thread.join()


class WebpMuxer:
    """Encodes frames to an animated .webp with millisecond timestamps whose total is exact."""

    def __init__(self, path: str, width: int, height: int, fmt: OutputFormat, *, quality: int,
                 lossless: bool, loop: int, play_rate: Fraction, count: int,
                 progress: Callable[[float], None] | None = None):
        self._path = path
        self._count = max(1, count)
        self._progress = progress
        self._lock = threading.Lock()
        self.encoded = 0
        self._clock = FrameClock(count, play_rate, 1000)
        self._starts = segment_starts(count, width, height, fmt)
        longest = max(b - a for a, b in zip(self._starts, [*self._starts[1:], max(1, count)]))
        self._parts: dict[int, str] = {}

        def make_segment(index: int) -> _Segment:
            part = f"{path}.{index}.seg"
            self._parts[index] = part
            return _Segment(part, width, height, fmt, quality=quality, lossless=lossless, loop=loop)

        threads = min(ENCODER_THREADS, len(self._starts))
        self._encoders = [_EncoderThread(f"webp-{i}", longest + 1, make_segment, self._frame_encoded)
                          for i in range(threads)]
        self._frame_index = 0
        self._segment = -1
        self._last_given: av.VideoFrame | None = None
        self._last_sent: av.VideoFrame | None = None
        self._last_encoder: _EncoderThread | None = None
        self.written = 0
        self.milliseconds = 0

    def write(self, frame: av.VideoFrame) -> None:
        index = self._frame_index
        self._frame_index += 1
        timing = self._clock.tick()
        if timing is None:
            return
        segment = bisect.bisect_right(self._starts, index) - 1
        if segment != self._segment:
            if self._segment >= 0:
                self._encoder(self._segment).put(("end",))
            self._segment = segment
        encoder = self._encoder(segment)
        if frame is self._last_given:
            # A picture repeats for consecutive slots as the same object. Each encoder thread sets
            # the pts of what it encodes, so one object must never reach two of them: the thread
            # that did not get the original gets its own copy, for the rest of the repeats too.
            if encoder is not self._last_encoder:
                self._last_sent = _copy(frame)
            frame = self._last_sent
        else:
            self._last_given, self._last_sent = frame, frame
        self._last_encoder = encoder
        pts, delay = timing
        encoder.put(("frame", segment, frame, pts, delay))
        self.written += 1
        self.milliseconds += delay

    def _frame_encoded(self) -> None:
        # Progress counts encoded frames: decoding runs up to a segment ahead of the encoders.
        with self._lock:
            self.encoded += 1
            if self._progress is not None:
                self._progress(self.encoded / self._count)

    def _encoder(self, segment: int) -> _EncoderThread:
        return self._encoders[segment % len(self._encoders)]

    def close(self) -> None:
        try:
            if self._segment >= 0:
                self._encoder(self._segment).put(("end",))
            for encoder in self._encoders:
                encoder.finish()
            parts = [self._parts[i] for i in sorted(self._parts)]
            if len(parts) == 1:
                os.replace(parts[0], self._path)
            elif parts:
                join_animations(parts, self._path)
        finally:
            self._remove_parts()

    def abort(self) -> None:
        for encoder in self._encoders:
            encoder.cancel()
        self._remove_parts()

    def _remove_parts(self) -> None:
        for part in self._parts.values():
            try:
                os.unlink(part)
            except FileNotFoundError:
                pass


def _copy(frame: av.VideoFrame) -> av.VideoFrame:
    """A deep copy of a picture, plane by plane (odd sizes included, which to_ndarray refuses)."""
    import numpy as np  # rarely needed; importing it costs a one-shot render 40 ms

    copy = av.VideoFrame(frame.width, frame.height, frame.format.name)
    for source, target in zip(frame.planes, copy.planes):
        width = min(source.line_size, target.line_size)
        rows = min(source.buffer_size // source.line_size, target.buffer_size // target.line_size)
        src = np.frombuffer(source, np.uint8).reshape(-1, source.line_size)
        dst = np.frombuffer(memoryview(target), np.uint8).reshape(-1, target.line_size)
        dst.setflags(write=True)
        dst[:rows, :width] = src[:rows, :width]
    copy.colorspace, copy.color_range = frame.colorspace, frame.color_range
    return copy
