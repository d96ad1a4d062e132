"""Preview before saving: the template form and the Processing tab post here and show the
animation beside the form with its size. Translation only: media_jobs.commands.preview checks
and renders."""

from __future__ import annotations

import base64

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from console.web.forms import PreviewOffsetsForm
from console.web.templatetags.sizes import binary_size
from media_jobs.commands import preview as preview_commands
from media_jobs.errors import ErrorCode, LoopdeckError

STATUS = {ErrorCode.REQUEST_LIMIT_EXCEEDED: 429}


def _spec(request: HttpRequest, video):
    """From a saved template with the Processing tab's offsets, or from the unsaved template form."""
    if "template" not in request.POST:
        return preview_commands.form_spec(request.POST)
    offsets = PreviewOffsetsForm(request.POST)
    if not offsets.is_valid():
        field, messages = next(iter(offsets.errors.items()))
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, messages[0], field)
    return preview_commands.template_spec(video, request.POST["template"],
                                          offsets.cleaned_data["start_time_offset"],
                                          offsets.cleaned_data["end_time_offset"])


@login_required
@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    try:
        video = preview_commands.ready_video(request.POST.get("video", ""))
        result = preview_commands.preview(video, _spec(request, video))
    except LoopdeckError as exc:
        field = exc.field or "__all__"
        return JsonResponse({"errors": {field: [f"{exc.code}: {exc.message}"]}}, status=STATUS.get(exc.code, 400))
    response = JsonResponse({
        "image": f"data:{result.content_type};base64,{base64.b64encode(result.data).decode()}",
        "width": result.width, "height": result.height, "frames": result.frames,
        "size": result.size, "size_label": binary_size(result.size),
        "projected_size": result.projected_size, "projected_label": binary_size(result.projected_size),
        "full_width": result.full_width, "full_height": result.full_height,
        "start": round(result.start, 3), "end": round(result.end, 3), "full_end": round(result.full_end, 3),
    })
    response["Cache-Control"] = "no-store"
    return response
