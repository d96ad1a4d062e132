"""Preview before saving: a saved template with the Processing tab's offsets, or an unsaved
template form, rendered bounded on a ready video (media_jobs.preview does the render).

The checks are the ones a real submit makes (`tasks.check_step`, `TemplateForm`), so a preview
refuses exactly what saving would refuse, naming the same field."""

from __future__ import annotations

from django.utils.translation import gettext as _
import uuid
from typing import Any, Mapping

from media_jobs.commands import tasks as task_commands
from media_jobs.encode import EncodeError, RenderSpec
from media_jobs.errors import ErrorCode, LoopdeckError, from_encode
from media_jobs.forms import PARAM_FIELDS, TemplateForm
from media_jobs.models import AnimatedImageTemplate, Video
from media_jobs.preview import Preview, PreviewBusy, render_preview


def ready_video(public_id: str) -> Video:
    try:
        uuid.UUID(public_id)
    except (TypeError, ValueError):
        video = None
    else:
        video = Video.objects.filter(public_id=public_id, status=Video.Status.READY).first()
    if video is None:
        raise LoopdeckError(ErrorCode.MISSING_PARAMETER, _("choose a ready video to preview on"), "video")
    return video


def template_spec(video: Video, template_pk: str, start: float | None, end: float | None) -> RenderSpec:
    """A saved template with the offsets typed beside it, checked as a submit would check them."""
    pk = template_pk.strip()
    template = AnimatedImageTemplate.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    if template is None:
        raise LoopdeckError(ErrorCode.MISSING_PARAMETER, _("check a template to preview"), "templates")
    return task_commands.check_step(task_commands.StepRequest(template, start, end), video)


def form_spec(data: Mapping[str, Any]) -> RenderSpec:
    """An unsaved template form's parameters (the name does not matter for a preview)."""
    values = dict(data.items())
    values["name"] = values.get("name") or "preview"
    form = TemplateForm(values)
    if not form.is_valid():
        field, messages = next(iter(form.errors.items()))
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, messages[0], field)
    return RenderSpec(**{name: form.cleaned_data[name] for name in PARAM_FIELDS})


def preview(video: Video, spec: RenderSpec) -> Preview:
    try:
        return render_preview(video, spec)
    except PreviewBusy as exc:
        raise LoopdeckError(ErrorCode.REQUEST_LIMIT_EXCEEDED, str(exc)) from exc
    except EncodeError as exc:
        raise from_encode(exc) from exc
