"""The encode core: probe videos and render animated GIF / WebP. Imports nothing from Django."""

from .errors import EncodeError, ErrorCode
from .isolate import probe_isolated, render_isolated, run_isolated, snapshot_isolated
from .probe import probe
from .render import render
from .results import AudioStreamInfo, MediaInfo, RenderResult, VideoStreamInfo
from .snapshot import snapshot
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
    "probe_isolated",
    "render",
    "render_isolated",
    "run_isolated",
    "snapshot",
    "snapshot_isolated",
]
