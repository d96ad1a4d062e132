"""Animated WebP output through FFmpeg's libwebp_anim encoder and the webp muxer.

libwebp treats YUV input as BT.601 limited range, so lossy frames are scaled straight to that;
lossless frames are handed over as BGRA (libwebp's lossless mode is RGB). Frames stream: the
encoder holds only what libwebp's animation encoder needs to compare consecutive frames. A range
whose frames are all identical would come out as a still image; `webpfile.ensure_animated` makes
it an animation that plays for the range.
"""

from __future__ import annotations

from fractions import Fraction

import av
import av.error

from .scaler import OutputFormat
from .timing import FrameClock
from .webpfile import ensure_animated, set_total_duration

COMPRESSION_LEVEL = 4  # libwebp "method": 4 is cwebp's default speed/size balance


def webp_format(lossless: bool, alpha: bool) -> OutputFormat:
    """The pixel format the scaler should produce for libwebp."""
    if lossless:
        return OutputFormat("bgra")
    return OutputFormat("yuva420p" if alpha else "yuv420p", bt601_limited=True)


class WebpMuxer:
    """Encodes frames to an animated .webp with millisecond timestamps whose total is exact."""

    def __init__(self, path: str, width: int, height: int, fmt: OutputFormat, *, quality: int,
                 lossless: bool, loop: int, play_rate: Fraction, count: int):
        # WebP's loop count is the number of plays (0 = forever); FFmpeg's muxer default plays once.
        self._path = path
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
        self._size = (width, height)
        self._loop = loop
        self._delays: list[int] = []
        self._clock = FrameClock(count, play_rate, 1000)
        self.written = 0
        self.milliseconds = 0

    def write(self, frame: av.VideoFrame) -> None:
        timing = self._clock.tick()
        if timing is None:
            return
        frame.pts, delay = timing
        frame.time_base = Fraction(1, 1000)
        frame.duration = delay
        self._delays.append(delay)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.written += 1
        self.milliseconds += delay

    def close(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        if self.written:
            set_total_duration(self._path, self.milliseconds)
            ensure_animated(self._path, *self._size, self._delays, self._loop)

    def abort(self) -> None:
        try:
            self._container.close()
        except av.error.FFmpegError:
            pass
