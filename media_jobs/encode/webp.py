"""Animated WebP output through FFmpeg's libwebp_anim encoder and the webp muxer.

libwebp treats YUV input as BT.601 limited range, so lossy frames are scaled straight to that;
lossless frames are handed over as BGRA (libwebp's lossless mode is RGB). Frames stream: the
encoder holds only what libwebp's animation encoder needs to compare consecutive frames.
"""

from __future__ import annotations

import struct
from fractions import Fraction

import av
import av.error

from .scaler import OutputFormat
from .timing import frame_ticks

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
        self._ticks = frame_ticks(count, play_rate, 1000)
        self.index = 0
        self.written = 0
        self.milliseconds = 0

    def write(self, frame: av.VideoFrame) -> None:
        k = self.index
        self.index += 1
        if k + 1 >= len(self._ticks):
            return
        delay = self._ticks[k + 1] - self._ticks[k]
        if delay <= 0:
            return
        frame.pts = self._ticks[k]
        frame.time_base = Fraction(1, 1000)
        frame.duration = delay
        self._last_end = self._ticks[k + 1]
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.written += 1
        self.milliseconds += delay

    def close(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        if self.written:
            _set_last_duration(self._path, self.milliseconds)

    def abort(self) -> None:
        try:
            self._container.close()
        except av.error.FFmpegError:
            pass


def _anmf_offsets(handle) -> list[int]:
    """File offsets of the ANMF (animation frame) chunk payloads."""
    offsets: list[int] = []
    header = handle.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        return offsets
    while True:
        chunk = handle.read(8)
        if len(chunk) < 8:
            break
        fourcc, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if fourcc == b"ANMF":
            offsets.append(handle.tell())
        handle.seek(size + (size & 1), 1)
    return offsets


def _set_last_duration(path: str, total_ms: int) -> None:
    """Make the frame durations add up to `total_ms` exactly.

    FFmpeg's libwebp_anim wrapper ends the last frame 1 ms after its start instead of at its
    real end; the duration field is a fixed 24-bit slot, so it is rewritten in place.
    """
    with open(path, "r+b") as handle:
        offsets = _anmf_offsets(handle)
        if not offsets:
            return
        durations = []
        for offset in offsets:
            handle.seek(offset + 12)
            durations.append(int.from_bytes(handle.read(3), "little"))
        last = total_ms - sum(durations[:-1])
        if 0 < last < 1 << 24 and last != durations[-1]:
            handle.seek(offsets[-1] + 12)
            handle.write(last.to_bytes(3, "little"))


def frame_durations(path: str) -> list[int]:
    """Display time in ms of each frame stored in an animated WebP (its ANMF chunks).

    libwebp merges a frame identical to the one before into it (adding the durations), so the
    file can hold fewer frames than were encoded; the total time is unchanged.
    """
    durations: list[int] = []
    with open(path, "rb") as handle:
        for offset in _anmf_offsets(handle):
            handle.seek(offset + 12)
            durations.append(int.from_bytes(handle.read(3), "little"))
    return durations
