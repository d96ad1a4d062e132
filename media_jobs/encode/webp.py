"""Animated WebP output through FFmpeg's libwebp_anim encoder and the webp muxer.

libwebp treats YUV input as BT.601 limited range, so lossy frames are scaled straight to that;
lossless frames are handed over as BGRA (libwebp's lossless mode is RGB).

libwebp's animation encoder is single-threaded and keeps every encoded frame in memory until it
assembles the file at the end. So the frames are cut into segments, each encoded by a fresh
encoder into its own file on one of two threads (FFmpeg releases the GIL while encoding), and the
segments' frames are joined into one animation (`webpfile.join_animations`). Each segment starts
with a key frame; with moving pictures a key frame costs what a difference frame does (measured:
+0.01 % bytes for 2 segments of 1080p footage).

Pictures come from one or two producers (decoders), each handing over its slots in order. How
the slots are cut into segments and which encoder takes each is `segments.plan_segments`.
"""

from __future__ import annotations

import bisect
import io
import math
import os
import queue
import threading
import time
from collections.abc import Callable
from fractions import Fraction

import av
import av.error
from PIL import Image, ImageChops, _webp

from .scaler import OutputFormat
from .segments import SegmentPlan, encoder_orders, plan_segments  # noqa: F401 - SegmentPlan is part of the API
from .timing import frame_ticks
from .webpfile import (ensure_animated, frame_durations, has_alpha, join_animations, read_chunks, set_total_duration,
                       still_as_animation)

COMPRESSION_LEVEL = 4  # libwebp "method": 4 is cwebp's default speed/size balance
# A key frame every KEY_MAX frames of moving pictures for lossy opaque output (see _KeyedSegment);
# 5 encodes faster than Pillow's and gif2webp's 3-5 at the same SSIM, bytes within 0.2 % (the
# benchmark's reference frames of cases A and E). libwebp's own placement, KEY_MIN-KEY_MAX, acts
# only within a run that holds more frames than that: still ones.
KEY_MIN, KEY_MAX = 4, 5
_WAIT = 0.1


def webp_format(lossless: bool, alpha: bool) -> OutputFormat:
    """The pixel format the scaler should produce for libwebp."""
    if lossless or not alpha:
        # Lossy opaque frames go to libwebp as RGBA through Pillow (see _KeyedSegment), which
        # makes its own YUV.
        return OutputFormat("bgra")
    return OutputFormat("yuva420p", bt601_limited=True)


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
        self._quality = quality
        # The first picture of a segment with alpha: see close().
        self._alpha = fmt.pix_fmt == "yuva420p"
        self._first: av.VideoFrame | None = None

    def write(self, frame: av.VideoFrame, pts: int, delay: int) -> None:
        if self._start is None:
            self._start = pts
        frame.pts = pts - self._start
        frame.time_base = Fraction(1, 1000)
        frame.duration = delay
        self.delays.append(delay)
        if self._alpha and self._first is None:
            self._first = frame
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        if self._first is not None and len(frame_durations(self.path)) <= 1 and not has_alpha(self.path):
            # libwebp's animation encoder loses the alpha of a lossy segment holding one distinct
            # picture (a still range): that picture is encoded again, as a still image with alpha.
            rgba = self._first.reformat(format="rgba", src_colorspace="ITU601", src_color_range="MPEG")
            # to_image() would drop the alpha (it converts to RGB).
            Image.fromarray(rgba.to_ndarray(), "RGBA").save(self.path, format="WEBP", quality=self._quality,
                                                            method=COMPRESSION_LEVEL)
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


class _KeyedSegment(_Segment):
    """A lossy, opaque part of the animation, encoded by libwebp's animation encoder through Pillow.

    libwebp is driven through Pillow, not FFmpeg's libwebp_anim, for key frames, which FFmpeg
    does not let one place. Without key frames every lossy frame is a difference against the
    previous lossy picture and the error piles up; a key frame every 3-5 frames gave the same
    SSIM at 0.74-0.76x the bytes (issue 17, `python -m bench.webp_levers`).

    libwebp's own placement (kmin/kmax) encodes a frame twice wherever a key frame may go, once
    as a key frame and once as a difference; at its tightest setting (kmin = kmax - 1) the key
    frame always wins and the difference is thrown away. So each run of KEY_MAX frames gets an
    encoder of its own, whose first frame is a key frame encoded once, and the runs are joined:
    the same file (byte-identical on the benchmark's case A) for 15 % less encoding time.

    A frame that may be still (the same picture as the one before, or within twice libwebp's
    lossy tolerance of it everywhere: libwebp compares it with the picture shown, which is near
    both) does not start a run. It goes to the run's encoder, which merges it into the frame
    before or places its own key frames (KEY_MIN-KEY_MAX) as a single encoder would, so a still
    stretch is not encoded again as key frames.
    """

    def __init__(self, path: str, width: int, height: int, fmt: OutputFormat, *, quality: int,
                 lossless: bool, loop: int):
        # Only lossy segments come here (WebpMuxer sends lossless ones to FFmpeg): `lossless` is
        # taken for the common signature and is always false.
        self.path = path
        self._size = (width, height)
        self._loop = loop
        # Opened now, as FFmpeg's segments are: a file that cannot be created fails at once.
        self._file = open(path, "wb")
        self._quality = quality
        self._tolerance = 2 * _lossy_tolerance(quality)
        self._start: int | None = None
        self._end = 0
        self.delays: list[int] = []
        self._runs: list[tuple[bytes, int]] = []  # each run's file and its length in ms
        self._encoder = None
        self._run_start = 0  # where the current run starts, in ms from the segment's start
        self._counted = 0  # the run's frames that libwebp encodes (not merged into the one before)
        self._last_frame: av.VideoFrame | None = None
        self._last_picture: Image.Image | None = None

    def write(self, frame: av.VideoFrame, pts: int, delay: int) -> None:
        if self._start is None:
            self._start = pts
        at = pts - self._start
        repeat = frame is self._last_frame
        picture = self._last_picture if repeat else _rgba(frame)
        if self._encoder is None or (not repeat and self._counted >= KEY_MAX
                                     and not _similar(self._last_picture, picture, self._tolerance)):
            self._end_run()
            self._encoder = _webp.WebPAnimEncoder(self._size, 0, self._loop, False, KEY_MIN, KEY_MAX, False, 0)
            self._run_start, self._counted = at, 0
        self._encoder.add(picture.getim(), at - self._run_start, False, self._quality, 100, COMPRESSION_LEVEL)
        self._counted += 0 if repeat else 1
        self._last_frame, self._last_picture = frame, picture
        self.delays.append(delay)
        self._end = at + delay

    def _end_run(self) -> None:
        """Assemble the current run (if any), which ends where the last frame written ends."""
        if self._encoder is None:
            return
        length = self._end - self._run_start
        self._encoder.add(None, length, False, self._quality, 100, 0)
        data = self._encoder.assemble(b"", b"", b"")
        self._encoder = None
        if data is None:
            raise OSError("libwebp could not assemble the animation")
        self._runs.append((data, length))

    def close(self) -> None:
        self._end_run()
        with self._file:
            if len(self._runs) == 1:
                self._file.write(self._runs[0][0])
            elif self._runs:
                join_animations([io.BytesIO(self._animated(*run)) for run in self._runs], self._file)
        if self.delays:
            # A still range comes out as a plain picture; the total is set per segment, before the join.
            set_total_duration(self.path, sum(self.delays))
            ensure_animated(self.path, *self._size, self.delays, self._loop)

    def _animated(self, data: bytes, total: int) -> bytes:
        """A run as an animation: one of a single distinct picture comes out as a still image."""
        chunks = read_chunks(io.BytesIO(data))
        if any(c.fourcc == b"ANIM" for c in chunks):
            return data
        return still_as_animation(data, chunks, *self._size, [total], self._loop) or data

    def abort(self) -> None:
        self._encoder = None
        self._runs = []
        self._file.close()


def _lossy_tolerance(quality: int) -> int:
    """How far (per channel) libwebp lets a lossy frame's pixel be from the one shown and still
    count as unchanged (anim_encode.c's QualityToMaxDiff)."""
    root = math.sqrt(quality / 100)
    return int(31 * (1 - root) + root + 0.5)


def _similar(shown: Image.Image, picture: Image.Image, tolerance: int) -> bool:
    """Whether every pixel of `picture` is within `tolerance` of `shown` (a moving picture
    usually differs in its middle row already, which is checked first)."""
    width, height = picture.size
    middle = (0, height // 2, width, height // 2 + 1)
    for a, b in ((shown.crop(middle), picture.crop(middle)), (shown, picture)):
        if max(high for _, high in ImageChops.difference(a, b).getextrema()) > tolerance:
            return False
    return True


def _rgba(frame: av.VideoFrame) -> Image.Image:
    """The scaler's BGRA picture as the RGBA image Pillow hands to libwebp."""
    plane = frame.planes[0]
    return Image.frombuffer("RGBA", (frame.width, frame.height), bytes(plane), "raw", "BGRA", plane.line_size, 1)


class _Channel:
    """One segment's queue, and whether its encoder has begun taking from it."""

    def __init__(self, depth: int):
        self.queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self.opened = threading.Event()
        self.ended = False


class _EncoderThread:
    """Encodes its segments one after another, each from its own channel, in a thread of its own."""

    def __init__(self, name: str, order: list[int], channels: list[_Channel], make_segment, encoded):
        self._order = order
        self._channels = channels
        self._make_segment = make_segment
        self._encoded = encoded
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def check(self) -> None:
        """Re-raise the thread's error, instead of waiting on a dead or stopped thread."""
        if self.error is not None:
            raise self.error
        if self._stop.is_set():
            raise RuntimeError("the WebP encoder was stopped")

    def _run(self) -> None:
        segment: _Segment | None = None
        try:
            for index in self._order:
                channel = self._channels[index]
                channel.opened.set()
                while True:
                    try:
                        item = channel.queue.get(timeout=_WAIT)
                    except queue.Empty:
                        if self._stop.is_set():
                            return
                        continue
                    if item is None:
                        break
                    frame, pts, delay = item
                    if segment is None:
                        segment = self._make_segment(index)
                    segment.write(frame, pts, delay)
                    self._encoded()
                if segment is not None:
                    done, segment = segment, None
                    done.close()
        except BaseException as exc:  # noqa: BLE001 - handed to the producers, which re-raise it
            self.error = exc
        finally:
            if segment is not None:
                segment.abort()

    def finish(self) -> None:
        self._thread.join()
        self.check()

    def cancel(self) -> None:
        self._stop.set()
        self._thread.join()


class WebpMuxer:
    """Encodes frames to an animated .webp with millisecond timestamps whose total is exact.

    Pictures arrive through feeds, one per producing thread, each writing its slots in order:
    the default `write` for a single producer, or `feed(p)` per producer when `parts` gives each
    producer's first slot.
    """

    def __init__(self, path: str, width: int, height: int, fmt: OutputFormat, *, quality: int,
                 lossless: bool, loop: int, play_rate: Fraction, count: int,
                 parts: list[int] | None = None, progress: Callable[[float], None] | None = None):
        self._path = path
        self._count = max(1, count)
        self._progress = progress
        self._lock = threading.Lock()
        self.encoded = 0
        self._ticks = frame_ticks(count, play_rate, 1000)
        self.plans = plan_segments(count, width, height, fmt, parts)
        self._starts = [plan.start for plan in self.plans]
        self._channels = [_Channel(plan.depth) for plan in self.plans]
        self._parts: dict[int, str] = {}

        def make_segment(index: int) -> _Segment:
            part = f"{path}.{index}.seg"
            with self._lock:
                self._parts[index] = part
            kind = _KeyedSegment if fmt.pix_fmt == "bgra" and not lossless else _Segment
            return kind(part, width, height, fmt, quality=quality, lossless=lossless, loop=loop)

        self._encoders = [_EncoderThread(f"webp-{i}", order, self._channels, make_segment, self._frame_encoded)
                          for i, order in enumerate(encoder_orders(self.plans))]
        self._feeds: list[_Feed] = []
        self._next = 0

    def feed(self, producer: int = 0) -> _Feed:
        """The writer for one producing thread."""
        feed = _Feed(self, producer)
        self._feeds.append(feed)
        return feed

    def write(self, frame: av.VideoFrame) -> None:
        """The next slot's picture, from the only producer."""
        if not self._feeds:
            self.feed(0)
        self._feeds[0].write(self._next, frame)
        self._next += 1

    def _frame_encoded(self) -> None:
        # Progress counts encoded frames: decoding runs ahead of the encoders.
        with self._lock:
            self.encoded += 1
            if self._progress is not None:
                self._progress(self.encoded / self._count)

    def _put(self, index: int, item: tuple | None) -> None:
        """Queue an item for segment `index` once its encoder has begun on it."""
        channel = self._channels[index]
        encoder = self._encoders[self.plans[index].encoder]
        while not channel.opened.wait(_WAIT):
            encoder.check()
        while True:
            encoder.check()
            try:
                channel.queue.put(item, timeout=_WAIT)
                return
            except queue.Full:
                continue

    def _end(self, index: int) -> None:
        with self._lock:
            if self._channels[index].ended:
                return
            self._channels[index].ended = True
        self._put(index, None)

    def close(self) -> None:
        """Finish every segment and join them into the output; every producer must be done."""
        try:
            for feed in self._feeds:
                feed.end()
            self._end_the_rest()
            for encoder in self._encoders:
                encoder.finish()
            parts = [self._parts[i] for i in sorted(self._parts)]
            if len(parts) == 1:
                os.replace(parts[0], self._path)
            elif parts:
                join_animations(parts, self._path)
        finally:
            self._remove_parts()

    def _end_the_rest(self) -> None:
        """End the segments no producer reached (the file ended early), whichever order the
        encoders take them in: a segment only has room once its encoder is on it."""
        pending = [i for i, channel in enumerate(self._channels) if not channel.ended]
        while pending:
            for index in list(pending):
                try:
                    self._channels[index].queue.put_nowait(None)
                except queue.Full:
                    continue
                self._channels[index].ended = True
                pending.remove(index)
            if pending:
                for encoder in self._encoders:
                    encoder.check()
                time.sleep(0.01)

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


class _Feed:
    """Hands one producer's pictures, slot by slot in order, to each slot's segment."""

    def __init__(self, muxer: WebpMuxer, producer: int):
        self._muxer = muxer
        self._producer = producer
        self._segment = -1
        self._last_given: av.VideoFrame | None = None
        self._last_sent: av.VideoFrame | None = None

    def write(self, k: int, frame: av.VideoFrame) -> None:
        muxer = self._muxer
        if k + 1 >= len(muxer._ticks):
            return
        pts, delay = muxer._ticks[k], muxer._ticks[k + 1] - muxer._ticks[k]
        if delay <= 0:
            return  # shorter than a millisecond of playback: the format cannot show it
        segment = bisect.bisect_right(muxer._starts, k) - 1
        if segment != self._segment:
            if self._segment >= 0:
                muxer._end(self._segment)
                # A picture repeats for consecutive slots as the same object. Each encoder sets
                # the pts of what it encodes, so one object must never reach two of them: a new
                # segment gets its own copy of a picture the previous one had.
                if frame is self._last_given:
                    self._last_sent = _copy(frame)
            self._segment = segment
        if frame is self._last_given:
            frame = self._last_sent
        else:
            self._last_given, self._last_sent = frame, frame
        muxer._put(segment, (frame, pts, delay))

    def end(self) -> None:
        """This producer has handed over all it will."""
        if self._segment >= 0:
            self._muxer._end(self._segment)
            self._segment = -1


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
