"""What to render: the template parameters, their ranges, and the one routine that checks them.

The console forms, the JSON API and the model's check constraints all read their rules from here,
so a rule is written once and gives the same error everywhere.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import EncodeError, ErrorCode

FORMATS = ("gif", "webp")
SCALE_MODES = ("stretch", "fit", "fill", "crop")  # Alibaba OSS `scaletype`; stretch is its default
DITHERS = ("none", "bayer", "floyd_steinberg", "sierra2_4a")
PALETTE_MODES = ("global", "per_frame")

# Inclusive ranges. Width/height also accept 0 ("follow the source"), percent sizes 0 ("unused").
SIZE_MIN, SIZE_MAX = 32, 4096
PERCENT_MIN, PERCENT_MAX = 1, 100
FPS_MIN, FPS_MAX = 1, 60
INTERVAL_MS_MIN, INTERVAL_MS_MAX = 10, 60_000
MAX_FRAMES_MIN, MAX_FRAMES_MAX = 1, 10_000
PLAYBACK_FPS_MIN, PLAYBACK_FPS_MAX = 0.1, 240
QUALITY_MIN, QUALITY_MAX = 1, 100
COLORS_MIN, COLORS_MAX = 2, 256
LOOP_MIN, LOOP_MAX = 0, 65_535
OFFSET_MAX = 86_399.999  # Alibaba TimeSpan's upper bound, in seconds
# A render may not produce more frames than this, whatever the range and rate: it bounds memory
# and time for one output.
OUTPUT_FRAMES_MAX = 6_000
MAX_SIZE_KB_MIN, MAX_SIZE_KB_MAX = 1, 1_000_000
BUDGET_KNOBS = ("quality", "colors", "fps", "size")


@dataclass(frozen=True)
class RenderSpec:
    """Every template parameter. Times are seconds of source time; negative offsets count from the end.

    Sampling: one output frame every 1/fps s of source time, or every `interval_ms` when that is set
    (Alibaba OSS `inter`). `max_frames` caps the count (OSS `num`). Playback runs at `playback_fps`
    when set (OSS `fps`: faster or slower than real time), otherwise at the sampling rate.

    Time range: `start`, then at most one of `end`, `duration`, or `trim_end` (Alibaba `End`: the
    length cut from the tail). None of them means "to the end of the video".
    """

    format: str = "gif"
    width: int = 0
    height: int = 0
    resolution_adaptive: bool = True
    width_percent: int = 0
    height_percent: int = 0
    scale_mode: str = "stretch"
    fps: float = 10
    interval_ms: int | None = None
    max_frames: int | None = None
    playback_fps: float | None = None
    start: float = 0.0
    end: float | None = None
    duration: float | None = None
    trim_end: float | None = None
    quality: int = 75
    lossless: bool = False
    colors: int = 256
    dither: str = "bayer"
    palette_mode: str = "global"
    loop: int = 0
    # A size budget (no vendor has one): when set, a render over it is made again with lower
    # settings, in `budget_order`, until it fits (see media_jobs.encode.budget).
    max_size_kb: int | None = None
    budget_order: str = "quality,colors,fps,size"

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "RenderSpec":
        """Build a spec from a mapping, ignoring keys that are not spec fields and None values
        for fields whose default is not None."""
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if value is None and f.default is not None:
                continue
            kwargs[f.name] = value
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "RenderSpec":
        return dataclasses.replace(self, **changes)

    @property
    def sample_rate(self) -> float:
        """Output frames per second of source time."""
        if self.interval_ms:
            return 1000.0 / self.interval_ms
        return float(self.fps)

    @property
    def play_rate(self) -> float:
        """Frames per second when the animation plays."""
        return float(self.playback_fps) if self.playback_fps else self.sample_rate

    def errors(self) -> dict[str, str]:
        """Every problem with the parameters, by field name. Empty when the spec is valid."""
        return validate_params(self)

    def validate(self) -> "RenderSpec":
        """Raise EncodeError for the first problem found; return self when valid."""
        problems = self.errors()
        if problems:
            field, message = next(iter(problems.items()))
            code = ErrorCode.INVALID_TIME_RANGE if field in TIME_FIELDS else ErrorCode.INVALID_PARAMETER
            raise EncodeError(code, f"{field}: {message}", field=field)
        return self

    def resolve_range(self, source_duration: float) -> "TimeRange":
        """Turn the requested offsets into absolute [start, end) seconds for a source of this length.

        A range that begins at or past the end of the video, or ends before it starts, is
        InvalidTimeRange; a range that runs past the end is clipped to the end and says so.
        """
        return resolve_range(self, source_duration)


TIME_FIELDS = frozenset({"start", "end", "duration", "trim_end"})


@dataclass(frozen=True)
class TimeRange:
    start: float
    end: float
    clipped: bool = False

    @property
    def duration(self) -> float:
        return self.end - self.start


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_range(errors: dict[str, str], name: str, value: Any, lo: float, hi: float,
                 allow_zero: bool = False, integer: bool = True) -> None:
    if not _is_number(value) or (integer and int(value) != value):
        errors[name] = "must be a whole number" if integer else "must be a number"
        return
    if allow_zero and value == 0:
        return
    if not lo <= value <= hi:
        zero = "0 or " if allow_zero else ""
        errors[name] = f"must be {zero}between {lo:g} and {hi:g}"


def validate_params(spec: RenderSpec) -> dict[str, str]:
    """The single validation routine for template parameters (see module docstring)."""
    errors: dict[str, str] = {}
    if spec.format not in FORMATS:
        errors["format"] = f"must be one of {', '.join(FORMATS)}"
    _check_range(errors, "width", spec.width, SIZE_MIN, SIZE_MAX, allow_zero=True)
    _check_range(errors, "height", spec.height, SIZE_MIN, SIZE_MAX, allow_zero=True)
    _check_range(errors, "width_percent", spec.width_percent, PERCENT_MIN, PERCENT_MAX, allow_zero=True)
    _check_range(errors, "height_percent", spec.height_percent, PERCENT_MIN, PERCENT_MAX, allow_zero=True)
    if (spec.width_percent or spec.height_percent) and (spec.width or spec.height) and not errors:
        errors["width_percent"] = "use either a size in pixels or a percentage, not both"
    if spec.scale_mode not in SCALE_MODES:
        errors["scale_mode"] = f"must be one of {', '.join(SCALE_MODES)}"
    _check_range(errors, "fps", spec.fps, FPS_MIN, FPS_MAX, integer=False)
    if spec.interval_ms is not None:
        _check_range(errors, "interval_ms", spec.interval_ms, INTERVAL_MS_MIN, INTERVAL_MS_MAX)
    if spec.max_frames is not None:
        _check_range(errors, "max_frames", spec.max_frames, MAX_FRAMES_MIN, MAX_FRAMES_MAX)
    if spec.playback_fps is not None:
        _check_range(errors, "playback_fps", spec.playback_fps, PLAYBACK_FPS_MIN, PLAYBACK_FPS_MAX,
                     integer=False)
    _check_range(errors, "quality", spec.quality, QUALITY_MIN, QUALITY_MAX)
    if not isinstance(spec.lossless, bool):
        errors["lossless"] = "must be true or false"
    if not isinstance(spec.resolution_adaptive, bool):
        errors["resolution_adaptive"] = "must be true or false"
    _check_range(errors, "colors", spec.colors, COLORS_MIN, COLORS_MAX)
    if spec.dither not in DITHERS:
        errors["dither"] = f"must be one of {', '.join(DITHERS)}"
    if spec.palette_mode not in PALETTE_MODES:
        errors["palette_mode"] = f"must be one of {', '.join(PALETTE_MODES)}"
    _check_range(errors, "loop", spec.loop, LOOP_MIN, LOOP_MAX)
    if spec.max_size_kb is not None:
        _check_range(errors, "max_size_kb", spec.max_size_kb, MAX_SIZE_KB_MIN, MAX_SIZE_KB_MAX)
    knobs = [k.strip() for k in str(spec.budget_order or "").split(",") if k.strip()]
    if not knobs or any(k not in BUDGET_KNOBS for k in knobs) or len(set(knobs)) != len(knobs):
        errors["budget_order"] = f"a comma-separated order of {', '.join(BUDGET_KNOBS)}, each at most once"
    errors.update(_time_errors(spec))
    return errors


def _time_errors(spec: RenderSpec) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in ("start", "end"):
        value = getattr(spec, name)
        if value is None and name == "end":
            continue
        if not _is_number(value):
            errors[name] = "must be a number of seconds"
        elif abs(value) > OFFSET_MAX:
            errors[name] = f"must be between -{OFFSET_MAX:g} and {OFFSET_MAX:g} seconds"
    for name in ("duration", "trim_end"):
        value = getattr(spec, name)
        if value is None:
            continue
        if not _is_number(value):
            errors[name] = "must be a number of seconds"
        elif name == "duration" and not 0 < value <= OFFSET_MAX:
            errors[name] = f"must be more than 0 and at most {OFFSET_MAX:g} seconds"
        elif name == "trim_end" and not 0 <= value <= OFFSET_MAX:
            errors[name] = f"must be between 0 and {OFFSET_MAX:g} seconds"
    given = [n for n in ("end", "duration", "trim_end") if getattr(spec, n) is not None]
    if len(given) > 1:
        errors.setdefault(given[1], f"give only one of end, duration or trim from end (got {', '.join(given)})")
    if errors:
        return errors
    start, end = spec.start, spec.end
    # Offsets of the same sign can be compared without knowing the video's length.
    if end is not None and (start >= 0) == (end >= 0) and end <= start:
        errors["end"] = "must be after the start"
    return errors


def resolve_range(spec: RenderSpec, source_duration: float) -> TimeRange:
    if not _is_number(source_duration) or source_duration <= 0:
        raise EncodeError(ErrorCode.INVALID_TIME_RANGE, "the video has no known duration", field="start")
    start = spec.start + source_duration if spec.start < 0 else spec.start
    start = max(start, 0.0)
    if spec.end is not None:
        end = spec.end + source_duration if spec.end < 0 else spec.end
    elif spec.duration is not None:
        end = start + spec.duration
    elif spec.trim_end is not None:
        end = source_duration - spec.trim_end
    else:
        end = source_duration
    if start >= source_duration:
        raise EncodeError(
            ErrorCode.INVALID_TIME_RANGE,
            f"start {start:.3f} s is at or past the end of the video ({source_duration:.3f} s)",
            field="start",
        )
    if end <= start:
        raise EncodeError(
            ErrorCode.INVALID_TIME_RANGE,
            f"the range ends ({end:.3f} s) before it starts ({start:.3f} s)",
            field="end" if spec.end is not None else ("trim_end" if spec.trim_end is not None else "duration"),
        )
    clipped = end > source_duration + 1e-6
    return TimeRange(start=start, end=min(end, source_duration), clipped=clipped)
