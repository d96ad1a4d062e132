"""Preview before saving: the template form and the Processing tab post here and show the
animation beside the form with its size (media_jobs.preview does the bounded render)."""

from __future__ import annotations

import base64

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from console.web.templatetags.sizes import binary_size
from media_jobs.commands import tasks as task_commands
from media_jobs.encode import EncodeError, RenderSpec
from media_jobs.errors import LoopdeckError
from media_jobs.forms import PARAM_FIELDS, TemplateForm
from media_jobs.models import AnimatedImageTemplate, Video
from media_jobs.preview import PreviewBusy, render_preview


def _offset(request: HttpRequest, name: str) -> float | None:
    text = request.POST.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise LoopdeckError("InvalidTimeRange", "must be a number of seconds", field=name) from None


def _spec(request: HttpRequest) -> RenderSpec:
    """From a saved template with the Processing tab's offsets, or from the unsaved template form."""
    if "template" in request.POST:
        template_pk = request.POST["template"].strip()
        template = AnimatedImageTemplate.objects.filter(pk=template_pk if template_pk.isdigit() else 0).first()
        if template is None:
            raise LoopdeckError("MissingParameter", "check a template to preview", field="templates")
        step = task_commands.StepRequest(template, _offset(request, "start_time_offset"), _offset(request, "end_time_offset"))
        return task_commands.output_spec(step)
    data = request.POST.copy()
    data["name"] = data.get("name") or "preview"
    form = TemplateForm(data)
    if not form.is_valid():
        field, messages = next(iter(form.errors.items()))
        raise LoopdeckError("InvalidParameter", messages[0], field=field)
    return RenderSpec(**{name: form.cleaned_data[name] for name in PARAM_FIELDS})


@login_required
@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    video = Video.objects.filter(public_id=request.POST.get("video") or None, status=Video.Status.READY).first() \
        if _is_uuid(request.POST.get("video", "")) else None
    if video is None:
        return JsonResponse({"errors": {"video": ["Choose a ready video to preview on."]}}, status=400)
    try:
        result = render_preview(video, _spec(request))
    except PreviewBusy as exc:
        return JsonResponse({"errors": {"__all__": [str(exc)]}}, status=429)
    except (EncodeError, LoopdeckError) as exc:
        field = exc.field or "__all__"
        if field in ("start", "end", "duration", "trim_end") and "template" in request.POST:
            field = "start_time_offset" if field == "start" else "end_time_offset"
        return JsonResponse({"errors": {field: [f"{exc.code}: {exc.message}"]}}, status=400)
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


def _is_uuid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
