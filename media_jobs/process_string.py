"""Alibaba OSS `video/animation` process strings, both ways.

    video/animation,ss_5000,f_webp,pw_25,ph_25,fps_25,inter_500|sys/saveas,b_<b64>,o_<b64>/notify,topic_<b64>

`parse` turns one into template fields in Loopdeck's units (ss and inter are milliseconds there,
seconds and milliseconds here) plus the save-as and notify parts; every error names the OSS
parameter at fault. Ranges are the seed's; the template's own checks (RenderSpec, TemplateForm)
still run on the result, so a string can never make a template the form would refuse.
`render` is the template's process-string form. Pure Python: no Django."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from media_jobs.encode import spec as S
from media_jobs.errors import ErrorCode, LoopdeckError

OPERATION = "video/animation"
FORMATS = ("gif", "webp")
# OSS key: (template field, kind, minimum, maximum); scaled after the range check.
_KEYS: dict[str, tuple[str, type, float, float]] = {
    "ss": ("start", int, 0, 10**9),
    "num": ("max_frames", int, S.MAX_FRAMES_MIN, S.MAX_FRAMES_MAX),
    "inter": ("interval_ms", int, S.INTERVAL_MS_MIN, S.INTERVAL_MS_MAX),
    "fps": ("playback_fps", float, 0, 240),
    "w": ("width", int, S.SIZE_MIN, S.SIZE_MAX),
    "h": ("height", int, S.SIZE_MIN, S.SIZE_MAX),
    "pw": ("width_percent", int, S.PERCENT_MIN, S.PERCENT_MAX),
    "ph": ("height_percent", int, S.PERCENT_MIN, S.PERCENT_MAX),
}


@dataclass
class Process:
    params: dict[str, Any]  # template fields
    save_bucket: str = ""
    save_object: str = ""
    notify_topic: str = ""
    steps: list[str] = field(default_factory=list)


def _error(key: str, message: str, code: ErrorCode = ErrorCode.INVALID_PARAMETER) -> LoopdeckError:
    return LoopdeckError(code, f"{key}: {message}", key)


def _b64(key: str, text: str) -> str:
    try:
        padded = text + "=" * (-len(text) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _error(key, "is not URL-safe base64 of UTF-8 text") from None


def _pairs(part: str, operation: str) -> dict[str, str]:
    items = [p for p in part.split(",")[1:] if p != ""]
    found: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("_")
        if not sep or not key:
            raise _error(item, f"each {operation} parameter is key_value")
        if key in found:
            raise _error(key, "is given twice")
        found[key] = value
    return found


def _animation(part: str) -> dict[str, Any]:
    given = _pairs(part, OPERATION)
    if "f" not in given:
        raise _error("f", "the output format is required (f_gif or f_webp)", ErrorCode.MISSING_PARAMETER)
    params: dict[str, Any] = {}
    for key, value in given.items():
        if key == "f":
            if value not in FORMATS:
                raise _error("f", f"must be one of {', '.join(FORMATS)}")
            params["format"] = value
        elif key == "scaletype":
            if value not in S.SCALE_MODES:
                raise _error("scaletype", f"must be one of {', '.join(S.SCALE_MODES)}")
            params["scale_mode"] = value
        elif key in _KEYS:
            name, kind, low, high = _KEYS[key]
            try:
                number = kind(value)
            except ValueError:
                raise _error(key, f"must be {'an integer' if kind is int else 'a number'}") from None
            if not low <= number <= high:
                raise _error(key, f"must be from {low:g} to {high:g}")
            params[name] = number
        else:
            raise _error(key, f"is not a {OPERATION} parameter")
    if "start" in params:
        params["start"] = params["start"] / 1000.0
    if params.get("playback_fps") == 0:
        params["playback_fps"] = None  # 0 means 1/inter, which is the default
    if ("width" in params or "height" in params) and ("width_percent" in params or "height_percent" in params):
        raise _error("pw", "use w/h or pw/ph, not both")
    if "width" in params or "height" in params:
        params.setdefault("width", 0)
        params.setdefault("height", 0)
        # OSS w/h are the output's own edges, not a long/short edge pair.
        params["resolution_adaptive"] = False
    return params


def parse(text: str) -> Process:
    text = (text or "").strip()
    if not text:
        raise _error("process", "a process string is required", ErrorCode.MISSING_PARAMETER)
    first, *rest = text.split("|")
    if first.split(",", 1)[0] != OPERATION:
        raise _error("process", f"must start with {OPERATION} (animation is the only operation served)")
    process = Process(params=_animation(first))
    for step in rest:
        for action in re.split(r"/(?=notify\b)", step):
            name = action.split(",", 1)[0]
            values = _pairs(action, name)
            if name == "sys/saveas":
                unknown = set(values) - {"b", "o"}
                if unknown:
                    raise _error(sorted(unknown)[0], "is not a sys/saveas parameter")
                if "o" not in values:
                    raise _error("o", "sys/saveas needs the target object (o_<base64>)", ErrorCode.MISSING_PARAMETER)
                process.save_object = _b64("o", values["o"])
                process.save_bucket = _b64("b", values["b"]) if "b" in values else ""
            elif name == "notify":
                if "topic" not in values:
                    raise _error("topic", "notify needs a topic (topic_<base64>)", ErrorCode.MISSING_PARAMETER)
                process.notify_topic = _b64("topic", values["topic"])
            else:
                raise _error(name or "process", "is not a step served after video/animation")
            process.steps.append(name)
    return process


def render(params: dict[str, Any]) -> str:
    """A template's fields as the process string that makes the same animation (the parameters
    OSS has; Loopdeck's extras such as the end of the range or the palette have no OSS key)."""
    parts = [OPERATION, f"f_{params.get('format', 'gif')}"]
    if params.get("start"):
        parts.append(f"ss_{round(params['start'] * 1000)}")
    if params.get("max_frames"):
        parts.append(f"num_{params['max_frames']}")
    if params.get("interval_ms"):
        parts.append(f"inter_{params['interval_ms']}")
    if params.get("playback_fps"):
        parts.append(f"fps_{params['playback_fps']:g}")
    for key, name in (("w", "width"), ("h", "height"), ("pw", "width_percent"), ("ph", "height_percent")):
        if params.get(name):
            parts.append(f"{key}_{params[name]}")
    if params.get("scale_mode") and params["scale_mode"] != "stretch":
        parts.append(f"scaletype_{params['scale_mode']}")
    return ",".join(parts)
