"""The encode core: probe videos and render animated GIF / WebP. Imports nothing from Django."""

from .errors import EncodeError, ErrorCode
from .probe import probe
from .render import render
from .results import AudioStreamInfo, MediaInfo, RenderResult, VideoStreamInfo
from .spec import RenderSpec, TimeRange

__all__ = [
    "AudioStreamInfo",
    "EncodeError",
    "ErrorCode",
    "MediaInfo",
    "RenderResult",
    "RenderSpec",
    "TimeRange",
    "VideoStreamInfo",
    "probe",
    "render",
]
