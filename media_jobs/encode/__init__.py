"""The encode core: probe videos and render animated GIF / WebP. Imports nothing from Django."""

from .errors import EncodeError, ErrorCode
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

_ISOLATED = ("probe_isolated", "render_isolated", "run_isolated", "snapshot_isolated")


def __getattr__(name: str):
    # The isolation helpers (multiprocessing, ctypes) load on first use: a one-shot command line
    # render does not pay for them.
    if name in _ISOLATED:
        from . import isolate

        return getattr(isolate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
