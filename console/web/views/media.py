"""Serving media from the local disk when no proxy or object storage does it (SERVE_MEDIA).

Uploaded originals are the uploader's bytes: a file that probes as a video can still be an HTML
or SVG polyglot, and its extension is the uploader's choice. So the content type never comes from
the name alone but from an allow-list, originals are always downloads (`attachment`), and every
answer carries nosniff and a sandbox CSP. A file is served for a signed URL (the ones Loopdeck
hands out: media_jobs.storage), an API key, or a signed-in operator; nobody else gets it.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    JsonResponse,
)
from django.utils.http import content_disposition_header
from django.views.static import serve

from console.api.models import ApiKey
from media_jobs.models import Video
from media_jobs.storage import SIGNATURE_PARAM, valid_media_signature

# What we make (outputs, covers): shown inline.
IMAGE_TYPES = {".gif": "image/gif", ".webp": "image/webp", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".png": "image/png"}
# What operators upload: downloaded with a video type; anything else is application/octet-stream.
VIDEO_TYPES = {
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska",
    ".webm": "video/webm", ".avi": "video/x-msvideo", ".flv": "video/x-flv", ".ts": "video/mp2t",
    ".mpg": "video/mpeg", ".mpeg": "video/mpeg", ".wmv": "video/x-ms-wmv", ".3gp": "video/3gpp",
    ".ogv": "video/ogg", ".qt": "video/quicktime", ".mts": "video/mp2t", ".m2ts": "video/mp2t",
    ".vob": "video/mpeg", ".asf": "video/x-ms-asf", ".3g2": "video/3gpp2", ".gif": "image/gif",
}
_ORIGINAL = re.compile(r"^videos/(?P<video>[0-9a-f-]{36})/original(\.[a-z0-9]{1,5})?$")


def _api_key_ok(request: HttpRequest) -> bool | None:
    """True/False for a request that sends a bearer key, None when it sends none."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and ApiKey.authenticate(token.strip()) is not None


def safe_filename(name: str, fallback: str) -> str:
    """The uploader's name for a download: printable characters only, no path, bounded length."""
    name = PurePosixPath(name.replace("\\", "/")).name
    name = "".join(c for c in name if c.isprintable()).strip().lstrip(".")
    return name[-150:] or fallback


def _refusal(request: HttpRequest, path: str) -> HttpResponse | None:
    """None when the request may have the file: a signed URL Loopdeck handed out, an API key,
    or a signed-in operator."""
    signature = request.GET.get(SIGNATURE_PARAM)
    if signature is not None:
        if valid_media_signature(path, signature):
            return None
        return HttpResponseForbidden("This media link is not valid (altered, or made with an older key).",
                                     content_type="text/plain; charset=utf-8")
    key_ok = _api_key_ok(request)
    if key_ok is False:
        return JsonResponse({"code": "Unauthorized", "message": "the API key is unknown or revoked"}, status=401)
    if key_ok is None and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def serve_media(request: HttpRequest, path: str) -> HttpResponse:
    refusal = _refusal(request, path)
    if refusal is not None:
        return refusal
    # Temporary names (".partial-…" while a file is written) are never served.
    if any(part.startswith(".") for part in PurePosixPath(path).parts):
        raise Http404("no such file")
    # MEDIA_ROOT is read per request, not frozen when the URLconf loads.
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    suffix = PurePosixPath(path).suffix.lower()
    original = _ORIGINAL.match(path)
    if original:
        video = Video.objects.filter(public_id=original["video"]).only("original_filename").first()
        filename = safe_filename(video.original_filename if video else "", f"original{suffix}")
        content_type, disposition = VIDEO_TYPES.get(suffix, "application/octet-stream"), (True, filename)
    elif suffix in IMAGE_TYPES:
        content_type, disposition = IMAGE_TYPES[suffix], (False, None)
    else:
        content_type, disposition = "application/octet-stream", (True, PurePosixPath(path).name)
    response["Content-Type"] = content_type
    if response.has_header("Content-Encoding"):
        del response["Content-Encoding"]
    header = content_disposition_header(*disposition)
    if header:
        response["Content-Disposition"] = header
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a browser were talked into rendering a file as a page, it gets no script and no origin.
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private"
    return response
