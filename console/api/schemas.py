"""Request and response bodies of the API (pydantic, so the OpenAPI document comes from them).

Request schemas only check types: the ranges and cross-field rules are enforced by the same
routines the console uses (TemplateForm, RenderSpec, the commands), so a rule gives one message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field

from media_jobs.encode import spec as S

T = TypeVar("T")
# Template definitions are database integers: anything outside is no template (and must not reach SQL).
DEFINITION_MAX = 2**31 - 1


class In(Schema):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Error(Schema):
    code: str = Field(description="Stable error code, e.g. InvalidParameter, ResourceNotFound.")
    message: str = Field(description="What is wrong, naming the field when there is one.")
    field: str | None = Field(None, description="The request field at fault, if any.")
    request_id: str = Field(description="Also in the X-Request-Id header; quote it when reporting a problem.")


class Page(Schema, Generic[T]):
    total_count: int = Field(description="How many items match, across all pages.")
    offset: int
    limit: int
    items: list[T]


# Templates ---------------------------------------------------------------------------------

def _range(lo: float, hi: float, zero: bool = False) -> str:
    return f"{lo}–{hi}" + (" or 0" if zero else "")


class TemplateIn(In):
    """Every field is optional on update; on create, `name` is required and the rest default."""

    name: str | None = Field(None, description="Unique, at most 64 characters.")
    comment: str | None = Field(None, description="At most 256 characters.")
    format: str | None = Field(None, description=f"One of {', '.join(S.FORMATS)}. Default gif.")
    width: int | None = Field(None, description=f"Pixels, {_range(S.SIZE_MIN, S.SIZE_MAX, True)} (0 = follow the source).")
    height: int | None = Field(None, description=f"Pixels, {_range(S.SIZE_MIN, S.SIZE_MAX, True)} (0 = follow the source).")
    resolution_adaptive: bool | None = Field(None, description="Width/height are the long/short edge. Default true.")
    width_percent: int | None = Field(None, description=f"Percent of the source width, {_range(S.PERCENT_MIN, S.PERCENT_MAX, True)}.")
    height_percent: int | None = Field(None, description=f"Percent of the source height, {_range(S.PERCENT_MIN, S.PERCENT_MAX, True)}.")
    scale_mode: str | None = Field(None, description=f"One of {', '.join(S.SCALE_MODES)}. Default stretch.")
    fps: float | None = Field(None, description=f"Sampling rate, {_range(S.FPS_MIN, S.FPS_MAX)}. Default 10.")
    interval_ms: int | None = Field(None, description=f"Sample every N ms instead of fps, {_range(S.INTERVAL_MS_MIN, S.INTERVAL_MS_MAX)}.")
    max_frames: int | None = Field(None, description=f"Frame cap, {_range(S.MAX_FRAMES_MIN, S.MAX_FRAMES_MAX)}.")
    playback_fps: float | None = Field(None, description=f"Playback rate, {_range(S.PLAYBACK_FPS_MIN, S.PLAYBACK_FPS_MAX)}.")
    start: float | None = Field(None, description="Start offset in seconds; negative counts from the end.")
    end: float | None = Field(None, description="End offset in seconds; negative counts from the end.")
    duration: float | None = Field(None, description="Seconds from the start (instead of end).")
    trim_end: float | None = Field(None, description="Seconds cut from the tail (instead of end).")
    quality: int | None = Field(None, description=f"WebP quality, {_range(S.QUALITY_MIN, S.QUALITY_MAX)}. Default 75.")
    lossless: bool | None = Field(None, description="Lossless WebP.")
    colors: int | None = Field(None, description=f"GIF palette size, {_range(S.COLORS_MIN, S.COLORS_MAX)}.")
    dither: str | None = Field(None, description=f"One of {', '.join(S.DITHERS)}.")
    palette_mode: str | None = Field(None, description=f"One of {', '.join(S.PALETTE_MODES)}.")
    loop: int | None = Field(None, description=f"Loop count, {_range(S.LOOP_MIN, S.LOOP_MAX)} (0 = forever).")
    max_size_kb: int | None = Field(None, description=f"Size budget in KB, {_range(S.MAX_SIZE_KB_MIN, S.MAX_SIZE_KB_MAX)}: "
                                    "a render over it is made again with lower settings until it fits.")
    budget_order: str | None = Field(None, description="What the budget lowers, in order: a comma list of "
                                     f"{', '.join(S.BUDGET_KNOBS)}. Default quality,colors,fps,size.")
    set_as_cover: bool | None = Field(None, description="Outputs of this template become the video's cover.")
    process: str | None = Field(None, description="An Alibaba OSS process string (`video/animation,f_gif,w_100,"
                                "h_100,inter_1000`) instead of the parameter fields; fields given as well win.")


class TemplateOut(Schema):
    definition: int = Field(description="The template id (presets 20000–99999, custom from 100000).")
    process: str = Field(description="The Alibaba OSS process string that makes the same animation.")
    type: Literal["Preset", "Custom"]
    name: str
    comment: str
    description: str
    format: str
    width: int
    height: int
    resolution_adaptive: bool
    width_percent: int
    height_percent: int
    scale_mode: str
    fps: float
    interval_ms: int | None
    max_frames: int | None
    playback_fps: float | None
    start: float
    end: float | None
    duration: float | None
    trim_end: float | None
    quality: int
    lossless: bool
    colors: int
    dither: str
    palette_mode: str
    loop: int
    max_size_kb: int | None
    budget_order: str
    set_as_cover: bool
    created_at: datetime
    updated_at: datetime


class CopyIn(In):
    name: str = Field(description="Name of the new custom template.")


# Workflows ---------------------------------------------------------------------------------

class StepIn(In):
    definition: int = Field(ge=0, le=DEFINITION_MAX, description="Template id.")
    start_time_offset: float | None = Field(None, description="Seconds; negative from the end. Null: the template's.")
    end_time_offset: float | None = Field(None, description="Seconds; negative from the end, 0 = the end. Null: the template's.")


class StepOut(Schema):
    definition: int
    template_name: str
    start_time_offset: float | None
    end_time_offset: float | None


class WorkflowIn(In):
    name: str = Field(description="Unique, at most 64 characters.")
    comment: str = Field("", description="At most 256 characters.")
    steps: list[StepIn] = Field(description="The animated images to make, in order (at least one).")


class WorkflowOut(Schema):
    id: UUID
    name: str
    comment: str
    steps: list[StepOut]
    created_at: datetime
    updated_at: datetime


# Animated images ---------------------------------------------------------------------------

class AnimatedImageOut(Schema):
    id: UUID
    task_id: UUID
    video_id: UUID
    definition: int
    template_name: str
    status: Literal["WAITING", "PROCESSING", "SUCCESS", "FAIL"]
    progress: int = Field(description="0–100.")
    error_code: str = Field(description="Empty when fine.")
    error_message: str
    start_time_offset: float | None = Field(description="As requested (null: the template's).")
    end_time_offset: float | None
    url: str | None = Field(description="Absolute URL of the file once SUCCESS.")
    container: str | None = Field(description="gif or webp.")
    width: int | None
    height: int | None
    bitrate: int | None = Field(description="Bits per second of playback.")
    size: int | None = Field(description="Bytes.")
    md5: str | None
    frames: int | None
    fps: float | None
    duration: float | None = Field(description="Playback seconds.")
    start_offset: float | None = Field(description="Source seconds actually used.")
    end_offset: float | None
    clipped: bool = Field(description="The requested range ran past the end of the video.")
    budget_steps: list[str] = Field(description="What the template's size budget lowered to fit, in order.")
    is_cover: bool
    created_at: datetime
    begun_at: datetime | None
    finished_at: datetime | None


# Videos ------------------------------------------------------------------------------------

class VideoOut(Schema):
    id: UUID
    title: str
    original_filename: str
    status: Literal["PROCESSING", "READY", "FAILED"]
    error_code: str
    error_message: str
    size: int
    duration: float | None
    width: int | None
    height: int | None
    container: str
    workflow_id: UUID | None
    cover_url: str | None = Field(description="The animated cover if one is set, else the static cover.")
    cover_animated_image_id: UUID | None
    created_at: datetime
    updated_at: datetime


class VideoDetailOut(VideoOut):
    metadata: dict[str, Any] | None = Field(
        description="Tencent VOD MetaData names: Size, Container, Bitrate, Height, Width, Duration, Rotate, "
                    "VideoDuration, AudioDuration, VideoStreamSet, AudioStreamSet."
    )
    animated_images: list[AnimatedImageOut]


class VideoUrlIn(In):
    url: str = Field(description="http(s) URL the server downloads (public addresses only).")
    title: str | None = Field(None, description="Defaults to the file name in the URL.")
    workflow_id: UUID | None = Field(None, description="Run this workflow once the video is ready.")


class VideoPatchIn(In):
    title: str = Field(description="1–255 characters.")


class CoverIn(In):
    animated_image_id: UUID | None = Field(description="A SUCCESS animated image of this video; null = static cover.")


# Tasks -------------------------------------------------------------------------------------

class TaskItemIn(In):
    definition: int = Field(ge=0, le=DEFINITION_MAX, description="Template id (Tencent AnimatedGraphicTaskSet.Definition).")
    start_time_offset: float | None = Field(None, description="Seconds; negative from the end. Null: the template's.")
    end_time_offset: float | None = Field(None, description="Seconds; negative from the end, 0 = the end. Null: the template's.")


class TaskIn(In):
    video_id: UUID
    animated_graphic_task_set: list[TaskItemIn] | None = Field(
        None, description="The animated images to make (Tencent ProcessMedia). Give this or workflow_id.")
    workflow_id: UUID | None = Field(None, description="Run this workflow's steps instead.")


class TaskOut(Schema):
    task_id: UUID
    video_id: UUID
    workflow_id: UUID | None
    origin: Literal["CONSOLE", "UPLOAD", "API"]
    status: Literal["WAITING", "PROCESSING", "FINISH", "ABORTED"]
    result: Literal["", "SUCCESS", "FAIL"] = Field(description="Set once FINISH.")
    progress: int = Field(description="Mean progress of the outputs, 0–100.")
    error_code: str
    error_message: str
    created_at: datetime
    begun_at: datetime | None
    finished_at: datetime | None
    animated_graphic_task_set: list[AnimatedImageOut]


class RetryOut(Schema):
    queued: int = Field(description="How many failed outputs were queued again.")
    task: TaskOut
