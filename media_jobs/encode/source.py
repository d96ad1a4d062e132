"""Opening a source file: named errors for bad input, the video stream to use, its time origin.

Everything that touches the input container goes through here, so that every FFmpeg failure on
open becomes an `EncodeError` with a code an operator can act on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av
import av.container
import av.error
import av.stream

from .errors import EncodeError, ErrorCode

# FFmpeg reads this much to guess a format and stream parameters; more only costs time on
# hostile files.
_OPEN_OPTIONS = {"probesize": str(5 * 1024 * 1024), "analyzeduration": str(5_000_000)}


def check_file(path: str | os.PathLike) -> int:
    """Return the file's size, raising the named error for a missing, unreadable or empty file."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise EncodeError(ErrorCode.RESOURCE_NOT_FOUND, f"no such file: {os.fspath(path)}") from None
    except OSError as exc:
        raise EncodeError(ErrorCode.RESOURCE_NOT_FOUND, f"cannot read the file: {exc.strerror}") from None
    if os.path.isdir(path):
        raise EncodeError(ErrorCode.INVALID_VIDEO_FORMAT, "the path is a directory, not a video file")
    if size == 0:
        raise EncodeError(ErrorCode.EMPTY_FILE, "the file is empty")
    return size


def open_input(path: str | os.PathLike) -> av.container.InputContainer:
    """Open a media file for reading, or raise EMPTY_FILE / INVALID_VIDEO_FORMAT."""
    check_file(path)
    try:
        return av.open(os.fspath(path), mode="r", options=_OPEN_OPTIONS)
    except av.error.FileNotFoundError:
        raise EncodeError(ErrorCode.RESOURCE_NOT_FOUND, f"no such file: {os.fspath(path)}") from None
    except av.error.MemoryError:
        raise EncodeError(ErrorCode.RESOURCE_LIMIT_EXCEEDED, "out of memory while opening the file") from None
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise EncodeError(
            ErrorCode.INVALID_VIDEO_FORMAT, f"not a readable video or image file ({_describe(exc)})"
        ) from None


def _describe(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.strip() or type(exc).__name__


def _stream_seconds(stream: av.stream.Stream) -> float | None:
    if stream.duration is None or stream.time_base is None or stream.duration <= 0:
        return None
    return float(stream.duration * stream.time_base)


def _stream_end(container: av.container.InputContainer, stream: av.stream.Stream) -> float | None:
    """Where the stream's last picture ends, in seconds from the container's time origin."""
    seconds = _stream_seconds(stream)
    if not seconds:
        return None
    if stream.start_time is not None and stream.time_base is not None:
        seconds += float(stream.start_time * stream.time_base - time_origin(container))
    return seconds if seconds > 0 else None


def pick_video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    """The stream a user means by "the video": not cover art, the longest, then the largest.

    Motion photos carry a second single-frame still track; cover art is an attached picture.
    """
    candidates = []
    for stream in container.streams.video:
        ctx = stream.codec_context
        if not ctx.width or not ctx.height:
            continue
        attached = bool(stream.disposition & av.stream.Disposition.attached_pic)
        single = stream.frames == 1
        duration = _stream_seconds(stream) or 0.0
        candidates.append(((not attached, not single, duration, ctx.width * ctx.height), stream))
    if not candidates:
        if container.streams.audio:
            raise EncodeError(ErrorCode.NO_VIDEO_STREAM, "the file has audio but no video stream")
        raise EncodeError(ErrorCode.NO_VIDEO_STREAM, "the file has no video stream")
    candidates.sort(key=lambda item: item[0], reverse=True)
    return candidates[0][1]


def time_origin(container: av.container.InputContainer) -> Fraction:
    """Seconds that count as 0 s of the video: the container's start time (MPEG-TS starts at 1.4 s)."""
    if container.start_time is None:
        return Fraction(0)
    return Fraction(container.start_time, av.time_base)


@dataclass(frozen=True)
class DurationEstimate:
    seconds: float | None
    source: str  # "container", "stream", "packets" or "none"


def estimate_duration(container: av.container.InputContainer, stream: av.stream.Stream) -> DurationEstimate:
    """The video's length in seconds, without decoding.

    Uses the end of the video stream or the container's figure, whichever comes first, else the
    timestamps of the last packets found by seeking near the end (MediaRecorder WebM has no
    duration in its header).
    """
    container_seconds = container.duration / av.time_base if container.duration and container.duration > 0 else None
    video_seconds = _stream_end(container, stream)
    # The container's figure is the longest of all its tracks: camera telemetry or timecode
    # tracks (GoPro GPMF runs 13.0 s beside 12.1 s of video) and longer audio outlast the
    # pictures, so the video's own end wins when it comes first.
    if video_seconds and (container_seconds is None or video_seconds < container_seconds):
        return DurationEstimate(video_seconds, "stream")
    if container_seconds:
        return DurationEstimate(container_seconds, "container")
    seconds = _duration_from_last_packets(container, stream)
    if seconds:
        return DurationEstimate(seconds, "packets")
    return DurationEstimate(None, "none")


def _duration_from_last_packets(container: av.container.InputContainer, stream: av.stream.Stream) -> float | None:
    """Demux (no decoding) from a seek point near the end and return the latest packet end time."""
    origin = time_origin(container)
    tb = stream.time_base
    try:
        container.seek(2**62 // 2, stream=stream, backward=True)
    except av.error.FFmpegError:
        # No index to seek with: read every packet's header. Demuxing is I/O bound, decoding is not
        # needed; this only happens for files whose header carries no duration.
        _rewind(container, stream)
    end: Fraction | None = None
    try:
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            stop = packet.pts + (packet.duration or 0)
            t = Fraction(stop) * tb
            if end is None or t > end:
                end = t
    except av.error.FFmpegError:
        pass
    _rewind(container, stream)
    if end is None:
        return None
    seconds = float(end - origin)
    return seconds if seconds > 0 else None


def _rewind(container: av.container.InputContainer, stream: av.stream.Stream) -> None:
    try:
        container.seek(0, stream=stream, backward=True)
    except av.error.FFmpegError:
        pass
