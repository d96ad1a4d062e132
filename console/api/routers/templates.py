"""Animated image templates: list (preset/custom), get, create, update, delete, copy.

Validation goes through `media_jobs.forms.TemplateForm`, the console's form: one rule, one message.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Status

from console.api import serialize
from console.api.common import DEFAULT_LIMIT, MAX_LIMIT, attribute, get, page
from console.api.errors import from_form, not_found
from console.api.schemas import DEFINITION_MAX, CopyIn, Error, Page, TemplateIn, TemplateOut
from media_jobs.commands import templates as template_commands
from media_jobs.forms import TemplateForm
from media_jobs.models import AnimatedImageTemplate

router = Router(tags=["Templates"])
ERRORS = {400: Error, 401: Error, 404: Error, 409: Error, 429: Error}
def _changes(payload: TemplateIn) -> dict:
    """The fields given; a `process` string stands for the fields it sets (given fields win)."""
    changes = payload.model_dump(exclude_unset=True)
    process = changes.pop("process", None)
    if process is not None:
        changes = {**template_commands.changes_from_process(process), **changes}
    return changes


def _save(form: TemplateForm) -> AnimatedImageTemplate:
    if not form.is_valid():
        raise from_form(form)
    return template_commands.save_template(form)


def _template(definition: int) -> AnimatedImageTemplate:
    if definition > DEFINITION_MAX:
        raise not_found("template", definition)
    return get(AnimatedImageTemplate.objects.all(), "template", definition=definition)


@router.get("", response={200: Page[TemplateOut], **ERRORS}, summary="List templates")
def list_templates(request: HttpRequest, type: Literal["preset", "custom", "Preset", "Custom"] | None = Query(None),
                   offset: int = Query(0, ge=0, le=10**9), limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    """Presets and custom templates, ordered by definition (Tencent `DescribeAnimatedGraphicsTemplates`)."""
    templates = AnimatedImageTemplate.objects.order_by("definition")
    if type is not None:
        templates = templates.filter(kind=type.capitalize())
    return page(templates, offset, limit, serialize.template)


@router.get("/{int:definition}", response={200: TemplateOut, **ERRORS}, summary="Get a template")
def get_template(request: HttpRequest, definition: int):
    return serialize.template(_template(definition))


@router.post("", response={201: TemplateOut, **ERRORS}, summary="Create a custom template")
def create_template(request: HttpRequest, payload: TemplateIn):
    """Unset fields take their defaults; `name` is required."""
    form = TemplateForm.with_changes(None, _changes(payload))
    template = _save(form)
    attribute(request, "template", template.definition)
    return Status(201, serialize.template(template))


@router.patch("/{int:definition}", response={200: TemplateOut, 403: Error, **ERRORS}, summary="Update a custom template")
def update_template(request: HttpRequest, definition: int, payload: TemplateIn):
    """Only the fields given change. Tasks already submitted keep the parameters they copied."""
    template = _template(definition)
    template_commands.check_editable(template)
    form = TemplateForm.with_changes(template, _changes(payload))
    template = _save(form)
    attribute(request, "template", template.definition)
    return serialize.template(template)


@router.delete("/{int:definition}", response={204: None, 403: Error, **ERRORS}, summary="Delete a custom template")
def delete_template(request: HttpRequest, definition: int):
    """Refused (409) while a workflow uses the template; tasks already submitted are not affected."""
    template = _template(definition)
    template_commands.delete_template(template)
    attribute(request, "template", definition)
    return Status(204, None)


@router.post("/{int:definition}/copy", response={201: TemplateOut, **ERRORS}, summary="Copy a template")
def copy_template(request: HttpRequest, definition: int, payload: CopyIn):
    """A new custom template with the same parameters (presets included) under a new name."""
    source = _template(definition)
    form = TemplateForm(data=TemplateForm.data_for(source, {"name": payload.name}))
    if not form.is_valid():
        raise from_form(form)
    copy = template_commands.copy_template(source, form.cleaned_data["name"])
    attribute(request, "template", copy.definition)
    return Status(201, serialize.template(copy))
