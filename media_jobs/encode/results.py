"""What the encode core returns: media info from probe() and output info from render()."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class VideoStreamInfo:
    index: int
    codec: str
    bitrate: int  # bits per second, 0 when unknown
    fps: float
    width: int  # coded size
    height: int
    pix_fmt: str
    duration: float | None = None


@dataclass(frozen=True)
class AudioStreamInfo:
    index: int
    codec: str
    bitrate: int
    sampling_rate: int
    channels: int
    duration: float | None = None


@dataclass(frozen=True)
class MediaInfo:
    """A probed file. `width`/`height` are as displayed: after rotation and sample aspect ratio."""

    container: str  # FFmpeg's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    duration: float  # seconds
    size: int  # bytes
    bitrate: int
    width: int
    height: int
    rotate: int  # degrees clockwise a player turns the picture: 0, 90, 180 or 270
    video_streams: list[VideoStreamInfo] = field(default_factory=list)
    audio_streams: list[AudioStreamInfo] = field(default_factory=list)
    video_duration: float | None = None
    audio_duration: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MediaInfo":
        data = dict(data)
        data["video_streams"] = [VideoStreamInfo(**s) for s in data.get("video_streams", [])]
        data["audio_streams"] = [AudioStreamInfo(**s) for s in data.get("audio_streams", [])]
        return cls(**data)

    def to_metadata(self) -> dict[str, Any]:
        """The fields of Tencent VOD's `MetaData`, with its names."""
        return {
            "Size": self.size,
            "Container": self.container,
            "Bitrate": self.bitrate,
            "Height": self.height,
            "Width": self.width,
            "Duration": self.duration,
            "Rotate": self.rotate,
            "VideoDuration": self.video_duration or 0,
            "AudioDuration": self.audio_duration or 0,
            "VideoStreamSet": [
                {"Bitrate": s.bitrate, "Codec": s.codec, "Fps": s.fps, "Height": s.height, "Width": s.width}
                for s in self.video_streams
            ],
            "AudioStreamSet": [
                {"Bitrate": s.bitrate, "Codec": s.codec, "SamplingRate": s.sampling_rate}
                for s in self.audio_streams
            ],
        }


@dataclass(frozen=True)
class RenderResult:
    """A finished animated image. Offsets are the source seconds actually used."""

    container: str  # "gif" or "webp"
    width: int
    height: int
    frames: int
    fps: float  # playback frames per second
    duration: float  # playback seconds (sum of frame delays)
    bitrate: int  # bits per second of playback
    size: int  # bytes
    md5: str
    start_offset: float
    end_offset: float
    clipped: bool = False  # the requested range ran past the end of the video
    # What the size budget lowered, in order ("quality 75 → 45"); empty when none was needed.
    budget_steps: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["budget_steps"] = list(self.budget_steps)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RenderResult":
        return cls(**{**data, "budget_steps": tuple(data.get("budget_steps", ()))})
