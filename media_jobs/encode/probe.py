"""probe(path): the media info of a file (Tencent VOD `MetaData` fields) from headers and a few packets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av
import av.container
import av.error

from .errors import EncodeError, ErrorCode
from .results import AudioStreamInfo, MediaInfo, VideoStreamInfo
from .source import check_file, estimate_duration, open_input, pick_video_stream

# Packets read to find the first picture (for rotation and sample aspect ratio). Long-GOP files
# decode their first frame within a few packets; hostile ones must not make probe read far.
_FIRST_FRAME_PACKETS = 120


@dataclass(frozen=True)
class Orientation:
    """How a decoded picture is shown: clockwise turn and sample aspect ratio."""

    rotate: int  # degrees clockwise: 0, 90, 180, 270
    sar: Fraction

    def display_size(self, width: int, height: int) -> tuple[int, int]:
        """The size a player shows a `width`x`height` coded picture at."""
        display_w = max(1, round(width * self.sar)) if self.sar > 0 else width
        if self.rotate in (90, 270):
            return height, display_w
        return display_w, height


def rotation_cw(frame: av.VideoFrame) -> int:
    """The display matrix's turn as degrees clockwise (PyAV reports counter-clockwise)."""
    try:
        ccw = frame.rotation
    except (ValueError, TypeError):
        return 0
    return int(round(-ccw / 90.0)) * 90 % 360


def frame_sar(frame: av.VideoFrame, stream: av.video.stream.VideoStream) -> Fraction:
    """Sample aspect ratio of a frame, falling back to the stream's; 1 when unknown or absurd."""
    sar = getattr(frame, "sample_aspect_ratio", None) or stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
    if not sar or sar <= 0 or not Fraction(1, 8) <= sar <= 8:
        return Fraction(1)
    return Fraction(sar)


def first_frame(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> av.VideoFrame | None:
    """Decode the first picture of `stream` reading at most a bounded number of packets."""
    read = 0
    try:
        for packet in container.demux(stream):
            read += 1
            try:
                frames = stream.decode(packet)
            except av.error.InvalidDataError:
                frames = []
            if frames:
                return frames[0]
            if read >= _FIRST_FRAME_PACKETS:
                break
        frames = stream.decode(None)
        return frames[0] if frames else None
    except (av.error.EOFError, av.error.InvalidDataError):
        return None


def probe(path: str | os.PathLike) -> MediaInfo:
    """Return the media info of a file, or raise EncodeError with a named code."""
    size = check_file(path)
    with open_input(path) as container:
        try:
            return _probe_container(container, size)
        except av.error.MemoryError:
            raise EncodeError(ErrorCode.RESOURCE_LIMIT_EXCEEDED, "out of memory while probing") from None
        except av.error.FFmpegError as exc:
            raise EncodeError(ErrorCode.INVALID_VIDEO_FORMAT, f"cannot read the file ({exc})") from None


def _probe_container(container: av.container.InputContainer, size: int) -> MediaInfo:
    video = pick_video_stream(container)
    duration = estimate_duration(container, video)
    video_streams = [_video_info(s) for s in container.streams.video]
    audio_streams = [_audio_info(s) for s in container.streams.audio]

    frame = first_frame(container, video)
    if frame is None:
        raise EncodeError(ErrorCode.DECODE_FAILED, "no picture could be decoded from the video stream")
    orientation = Orientation(rotation_cw(frame), frame_sar(frame, video))
    width, height = orientation.display_size(frame.width, frame.height)

    seconds = duration.seconds or 0.0
    bitrate = container.bit_rate or 0
    if not bitrate and seconds > 0:
        bitrate = int(size * 8 / seconds)
    chosen = next(s for s in video_streams if s.index == video.index)
    return MediaInfo(
        container=container.format.name,
        duration=round(seconds, 6),
        size=size,
        bitrate=int(bitrate),
        width=width,
        height=height,
        rotate=orientation.rotate,
        # The chosen stream first: consumers read video_streams[0] as "the video".
        video_streams=[chosen] + [s for s in video_streams if s is not chosen],
        audio_streams=audio_streams,
        video_duration=chosen.duration if chosen.duration is not None else (seconds or None),
        audio_duration=audio_streams[0].duration if audio_streams else None,
    )


def stream_rate(stream: av.video.stream.VideoStream) -> Fraction | None:
    """The stream's mean frame rate; FLV's 1 ms timebase makes FFmpeg report 1000 fps, so cap it."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < rate <= 240:
            return Fraction(rate)
    return None


def _seconds(stream: av.stream.Stream) -> float | None:
    if stream.duration is None or stream.time_base is None or stream.duration <= 0:
        return None
    return round(float(stream.duration * stream.time_base), 6)


def _video_info(stream: av.video.stream.VideoStream) -> VideoStreamInfo:
    ctx = stream.codec_context
    rate = stream_rate(stream)
    if ctx is None:
        # No decoder for this codec: listed, but never the one rendered.
        return VideoStreamInfo(index=stream.index, codec="unknown", bitrate=int(stream.bit_rate or 0),
                               fps=round(float(rate), 3) if rate else 0.0, width=0, height=0, pix_fmt="",
                               duration=_seconds(stream))
    return VideoStreamInfo(
        index=stream.index,
        codec=ctx.name if ctx.name != "libdav1d" else "av1",
        bitrate=int(stream.bit_rate or ctx.bit_rate or 0),
        fps=round(float(rate), 3) if rate else 0.0,
        width=ctx.width,
        height=ctx.height,
        pix_fmt=ctx.pix_fmt or "",
        duration=_seconds(stream),
    )


def _audio_info(stream: av.audio.stream.AudioStream) -> AudioStreamInfo:
    ctx = stream.codec_context
    if ctx is None:
        return AudioStreamInfo(index=stream.index, codec="unknown", bitrate=int(stream.bit_rate or 0),
                               sampling_rate=0, channels=0, duration=_seconds(stream))
    channels = getattr(ctx, "channels", 0) or (ctx.layout.nb_channels if ctx.layout else 0)
    return AudioStreamInfo(
        index=stream.index,
        codec=ctx.name,
        bitrate=int(stream.bit_rate or ctx.bit_rate or 0),
        sampling_rate=int(ctx.sample_rate or 0),
        channels=int(channels),
        duration=_seconds(stream),
    )
