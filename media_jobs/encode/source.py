"""Opening a source file: named errors for bad input, the video stream to use, its time origin.

Everything that touches the input container goes through here, so that every FFmpeg failure on
open becomes an `EncodeError` with a code an operator can act on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

import av
import av.container
import av.error
import av.logging
import av.stream

from .errors import EncodeError, ErrorCode

# The largest source picture decoded: 8K DCI (8192x4320, 35.4 MP) in area, 16384 on a side. Above
# it a header is a dimension bomb, not a video: one 60000x60000 picture is 5.4 GB. The 4K phone
# clips (3840x2160, 8.3 MP) and 8K 360-degree video (8192x4096) are well inside.
MAX_SOURCE_PIXELS = 8192 * 4320
MAX_SOURCE_SIDE = 16384

# Demuxers a file may be read with: containers that hold all their media themselves (the families
# of models.MEDIA_EXTENSIONS; audio-only ones so audio files get NoVideoStream). Everything else
# is refused before its reader runs, in particular readers that open further files or URLs named
# inside the file: HLS and DASH playlists, concat scripts, image2 sequences. A "video" that is an
# HLS playlist of file:///etc/passwd or http://169.254.169.254/ (the 2017 HLS-in-AVI attack), or a
# concat script listing another user's upload, would otherwise be read into the output.
ALLOWED_DEMUXERS = ("mov", "matroska", "avi", "flv", "mpegts", "mpeg", "asf", "ogg", "mxf", "gif",
                    "yuv4mpegpipe", "mp3", "aac", "wav", "flac")

_OPEN_OPTIONS = {
    # FFmpeg reads this much to guess a format and stream parameters; more only costs time on
    # hostile files.
    "probesize": str(5 * 1024 * 1024),
    "analyzeduration": str(5_000_000),
    # The file itself and nothing else: nested opens (a playlist's entries) inherit this list.
    "protocol_whitelist": "file",
    "format_whitelist": ",".join(ALLOWED_DEMUXERS),
    # QuickTime references to media in other files ("dref" aliases): never followed.
    "enable_drefs": "0",
    # The decoders FFmpeg runs to find stream parameters refuse pictures above the cap instead of
    # allocating them (a 16000x16000 H.264 header otherwise costs a second and 400 MB per frame).
    "max_pixels": str(MAX_SOURCE_PIXELS),
}
# A light opening: the decoders FFmpeg runs to find stream parameters skip every picture. The
# setting holds only for that search; decoding afterwards shows every picture.
_NO_PROBE_DECODE = {"skip_frame": "all"}
_LIGHT_STREAMS = 64
# FFmpeg names a refused size only in its log: "Picture size 60000x60000 is invalid" or "...
# exceeds specified max pixel count".
_REFUSED_SIZE = re.compile(r"Picture size (\d+)x(\d+) (?:is invalid|exceeds)")


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


@contextmanager
def named_errors(doing: str) -> Iterator[None]:
    """FFmpeg's failures and running out of memory while `doing` something, as named errors."""
    try:
        yield
    except EncodeError:
        raise
    except MemoryError:
        raise EncodeError(ErrorCode.RESOURCE_LIMIT_EXCEEDED, f"out of memory while {doing}") from None
    except av.error.FFmpegError as exc:
        raise EncodeError(ErrorCode.DECODE_FAILED, f"FFmpeg failed while {doing} ({exc})") from None


def open_input(path: str | os.PathLike, light: bool = False) -> av.container.InputContainer:
    """Open a media file for reading, or raise the named error.

    EMPTY_FILE / RESOURCE_NOT_FOUND for no data, INVALID_VIDEO_FORMAT for what no allowed demuxer
    reads (playlists and scripts included), RESOURCE_LIMIT_EXCEEDED for a picture size above
    MAX_SOURCE_PIXELS, before anything is decoded at that size.

    `light`: find the stream parameters without decoding a picture (an H.264 key frame: 35 ms
    of the 38 an open takes at 1080p, 130 of 134 at 4K). The decoders' pixel formats then read
    as None until they decode, and a container that only tells a stream's size by decoding shows
    it as 0x0: `open_sized` opens such a file again, fully.
    """
    check_file(path)
    with _error_log() as log:
        try:
            container = _open(path, light)
        except av.error.FileNotFoundError:
            raise EncodeError(ErrorCode.RESOURCE_NOT_FOUND, f"no such file: {os.fspath(path)}") from None
        except av.error.MemoryError:
            raise EncodeError(ErrorCode.RESOURCE_LIMIT_EXCEEDED, "out of memory while opening the file") from None
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            raise _open_error(exc, log) from None
    try:
        _check_opened(container, log)
    except BaseException:
        container.close()
        raise
    return container


def _open(path: str | os.PathLike, light: bool) -> av.container.InputContainer:
    if light:
        try:
            return av.open(os.fspath(path), mode="r", options=_OPEN_OPTIONS,
                           stream_options=[_NO_PROBE_DECODE] * _LIGHT_STREAMS)
        except ValueError as exc:
            # Containers whose streams appear only while their parameters are found (FLV, MPEG
            # program streams) take no per-stream options: open those fully.
            if "stream_options" not in str(exc):
                raise
    return av.open(os.fspath(path), mode="r", options=_OPEN_OPTIONS)


def open_sized(path: str | os.PathLike) -> av.container.InputContainer:
    """A light opening (see `open_input`), or a full one when it shows no video stream's size."""
    container = open_input(path, light=True)
    if any(s.codec_context and s.codec_context.width and s.codec_context.height for s in container.streams.video):
        return container
    container.close()
    return open_input(path)


@contextmanager
def _error_log() -> Iterator[list[tuple[int, str, str]]]:
    """FFmpeg's error lines logged by this thread while the block runs: (level, source, message).

    PyAV drops FFmpeg's log unless a level is set. It is set only around the open: FFmpeg's
    decoding threads must never wait for the GIL to log while a Python thread waits for them.
    """
    previous = av.logging.get_level()
    if previous is None:
        av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as lines:
            yield lines
    finally:
        if previous is None:
            av.logging.set_level(None)


def _refused_size(log: list[tuple[int, str, str]]) -> tuple[int, int] | None:
    for _, _, message in log:
        found = _REFUSED_SIZE.search(message)
        if found:
            return int(found[1]), int(found[2])
    return None


def _too_large(width: int, height: int) -> EncodeError:
    return EncodeError(
        ErrorCode.RESOURCE_LIMIT_EXCEEDED,
        f"the video's dimensions {width}x{height} exceed the limit (at most {MAX_SOURCE_PIXELS / 1e6:.1f} "
        f"megapixels and {MAX_SOURCE_SIDE} pixels a side)",
    )


def _open_error(exc: Exception, log: list[tuple[int, str, str]]) -> EncodeError:
    size = _refused_size(log)
    if size:
        return _too_large(*size)
    for _, source, message in log:
        if "not on whitelist" in message:
            return EncodeError(
                ErrorCode.INVALID_VIDEO_FORMAT,
                f"the file is in a format that is not accepted ({source or 'unknown'}): playlists, "
                "scripts, image sequences and other files that point at further files or URLs are refused",
            )
    return EncodeError(ErrorCode.INVALID_VIDEO_FORMAT, f"not a readable video or image file ({_describe(exc)})")


def _check_opened(container: av.container.InputContainer, log: list[tuple[int, str, str]]) -> None:
    """Refuse a demuxer outside the allow-list, and a header whose picture size FFmpeg refused."""
    names = set((container.format.name or "").split(","))
    if not names & set(ALLOWED_DEMUXERS):
        raise EncodeError(ErrorCode.INVALID_VIDEO_FORMAT,
                          f"the file is in a format that is not accepted ({container.format.name})")
    usable = any(s.codec_context and s.codec_context.width and s.codec_context.height
                 for s in container.streams.video)
    size = _refused_size(log)
    if size and not usable:
        # The header claims a size FFmpeg would not even set up (60000x60000): the stream
        # shows as 0x0, which would otherwise read as "no video stream".
        raise _too_large(*size)


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
    Raises RESOURCE_LIMIT_EXCEEDED when that stream's pictures are larger than the cap.
    """
    candidates = []
    undecodable = 0
    for stream in container.streams.video:
        ctx = stream.codec_context
        if ctx is None:
            # FFmpeg has no decoder for the stream's codec (an unknown or damaged codec id).
            undecodable += 1
            continue
        if not ctx.width or not ctx.height:
            continue
        attached = bool(stream.disposition & av.stream.Disposition.attached_pic)
        single = stream.frames == 1
        duration = _stream_seconds(stream) or 0.0
        candidates.append(((not attached, not single, duration, ctx.width * ctx.height), stream))
    if not candidates:
        if undecodable:
            raise EncodeError(ErrorCode.INVALID_VIDEO_FORMAT, "the video stream is in a codec that cannot be decoded")
        if container.streams.audio:
            raise EncodeError(ErrorCode.NO_VIDEO_STREAM, "the file has audio but no video stream")
        raise EncodeError(ErrorCode.NO_VIDEO_STREAM, "the file has no video stream")
    candidates.sort(key=lambda item: item[0], reverse=True)
    stream = candidates[0][1]
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > MAX_SOURCE_PIXELS or max(width, height) > MAX_SOURCE_SIDE:
        raise _too_large(width, height)
    # A stream may grow mid-way (a new H.264 SPS): the decoder refuses pictures above the cap
    # rather than allocating them.
    ctx = stream.codec_context
    if not ctx.is_open:
        ctx.options = {**(ctx.options or {}), "max_pixels": str(MAX_SOURCE_PIXELS)}
    return stream


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
        seek_to_start(container, stream)
    except av.error.FFmpegError:
        pass


# Far before any timestamp a file can hold, in any stream's time base.
_BEFORE_ANY_TIME = -(2**40)


def seek_to_start(container: av.container.InputContainer, stream: av.stream.Stream) -> None:
    """Seek to the file's first packet.

    Not to time 0: an MPEG-TS whose 33-bit clock wrapped has its first packets before 0 once
    FFmpeg unwraps them, and seeking to 0 there lands after the wrap (or, with stamps that jump
    back, nowhere at all). A time before any stamp always finds the first key frame.
    """
    try:
        container.seek(_BEFORE_ANY_TIME, stream=stream, backward=True)
    except av.error.FFmpegError:
        container.seek(0, stream=stream, backward=True)
