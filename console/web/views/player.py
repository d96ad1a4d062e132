"""The video page's player: the original when browsers play it, else its playable copy
(media_jobs.jobs.proxy), served inline with byte ranges so the player can seek."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from media_jobs.models import Video
from media_jobs.jobs.proxy import playable_name
from media_jobs.jobs.strip import request_strip

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/mp4", ".webm": "video/webm",
          ".mkv": "video/webm", ".ogv": "video/ogg"}
CHUNK = 256 * 1024


def _chunks(handle, length: int):
    with handle:
        while length > 0:
            data = handle.read(min(CHUNK, length))
            if not data:
                break
            length -= len(data)
            yield data


def play_url(video: Video) -> str | None:
    """The player's source URL, or None while nothing playable exists (the proxy is not made yet)."""
    if playable_name(video) is None:
        return None
    return reverse("console-video-play", args=[video.public_id])


def player_context(video: Video) -> dict:
    """What the player card needs: the source URL and the strip of thumbnails laid out."""
    return {"play_url": play_url(video), "strip": strip_layout(video)}


def strip_layout(video: Video) -> dict | None:
    """The strip's tiles for the page, shown at half their pixel size; None while there is none
    (one is asked for when the video has none yet)."""
    strip = video.strip
    if not strip.get("name"):
        request_strip(video)
        return None
    width, height = strip["tile_width"] / 2, strip["tile_height"] / 2
    return {
        "url": default_storage.url(strip["name"]), "width": width, "height": height,
        "sheet_width": width * len(strip["times"]),
        "tiles": [{"x": i * width, "at": f"{at:.3f}"} for i, at in enumerate(strip["times"])],
    }


@login_required
def video_play(request: HttpRequest, public_id: str) -> HttpResponse:
    video = get_object_or_404(Video, public_id=public_id)
    name = playable_name(video)
    if name is None:
        raise Http404("nothing playable yet")
    size = default_storage.size(name)
    start, end = 0, size - 1
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match and (match[1] or match[2]):
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
        else:
            start = max(0, size - int(match[2]))
        if start > end or start >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
    handle = default_storage.open(name, "rb")
    handle.seek(start)
    length = end - start + 1
    response = StreamingHttpResponse(_chunks(handle, length), status=206 if match else 200,
                                     content_type=_TYPES.get(PurePosixPath(name).suffix.lower(), "video/mp4"))
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if match:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    # The uploader's bytes: never sniffed into anything but a video, never given an origin.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, max-age=300"
    return response
