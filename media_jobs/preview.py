"""Preview: the chosen template on the chosen range of a video, at reduced cost, before saving.

It renders through the encode core in an isolated child, as the worker does, but bounded: the
first PREVIEW_SECONDS of the range, the output scaled so its short side is at most PREVIEW_LINES,
a short timeout, and one preview at a time per process (others are told to wait). The bytes go
back in the response and nothing is stored. The projected size scales the preview's bytes to
the full range and the full picture size, so it is an estimate and is labelled as one."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from media_jobs.encode import RenderSpec, render_isolated
from media_jobs.encode.geometry import plan_layout
from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.jobs import scratch
from media_jobs.jobs.common import local_copy
from media_jobs.models import Video

PREVIEW_SECONDS = 3.0
PREVIEW_LINES = 480
PREVIEW_TIMEOUT = 20.0
_one_at_a_time = threading.BoundedSemaphore(1)


@dataclass(frozen=True)
class Preview:
    data: bytes
    content_type: str
    width: int
    height: int
    frames: int
    size: int  # bytes of this preview
    projected_size: int  # estimated bytes of the full render
    full_width: int
    full_height: int
    start: float
    end: float  # the preview's end (source seconds)
    full_end: float  # where the full render would end


class PreviewBusy(Exception):
    """Another preview is rendering in this process."""


def preview_spec(spec: RenderSpec, video: Video) -> tuple[RenderSpec, float, float, float, int, int]:
    """The bounded spec, with the full range and full size it stands for."""
    spec.validate()
    if not video.duration or not video.width or not video.height:
        raise LoopdeckError(ErrorCode.INVALID_VIDEO_FORMAT, "the video is not probed yet")
    span = spec.resolve_range(video.duration)
    end = min(span.end, span.start + PREVIEW_SECONDS)
    layout = plan_layout(spec, video.width, video.height)
    full_w, full_h = layout.out_w, layout.out_h
    factor = min(1.0, PREVIEW_LINES / min(full_w, full_h))
    both_given = bool(spec.width and spec.height) and not (spec.width_percent or spec.height_percent)
    if both_given and spec.resolution_adaptive and video.height > video.width:
        width, height = spec.height, spec.width
    else:
        width, height = full_w, full_h
    bounded = spec.replace(
        width=max(2, round(width * factor)), height=max(2, round(height * factor)),
        width_percent=0, height_percent=0, resolution_adaptive=False,
        scale_mode=spec.scale_mode if both_given else "stretch",
        start=span.start, end=end, duration=None, trim_end=None,
    )
    return bounded.validate(), span.start, end, span.end, full_w, full_h


def render_preview(video: Video, spec: RenderSpec) -> Preview:
    bounded, start, end, full_end, full_w, full_h = preview_spec(spec, video)
    if not _one_at_a_time.acquire(blocking=False):
        raise PreviewBusy("another preview is rendering; try again in a moment")
    try:
        with scratch.scratch_folder("loopdeck-preview-") as tmp, local_copy(video.file, tmp) as source:
            out = Path(tmp) / f"preview.{bounded.format}"
            result = render_isolated(source, bounded, out, timeout=PREVIEW_TIMEOUT,
                                     memory_limit_mb=settings.RENDER_MEMORY_LIMIT_MB)
            data = out.read_bytes()
    finally:
        _one_at_a_time.release()
    area = (full_w * full_h) / max(1, result.width * result.height)
    length = (full_end - start) / max(1e-6, end - start)
    frames_full = result.frames * length
    if spec.max_frames:
        frames_full = min(frames_full, spec.max_frames)
    per_frame = result.size / max(1, result.frames)
    projected = int(per_frame * frames_full * area)
    return Preview(data=data, content_type=f"image/{bounded.format}", width=result.width, height=result.height,
                   frames=result.frames, size=result.size, projected_size=projected, full_width=full_w,
                   full_height=full_h, start=start, end=end, full_end=full_end)
