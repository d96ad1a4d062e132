"""Templates: create and update go through the shared TemplateForm (media_jobs.forms, the one
place for a template's parameter rules); copy and delete are here."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from media_jobs import process_string
from media_jobs.encode import RenderSpec
from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.forms import TemplateForm, first_error
from media_jobs.models import AnimatedImageTemplate, Workflow


def check_editable(template: AnimatedImageTemplate) -> None:
    if template.is_preset:
        raise LoopdeckError(ErrorCode.OPERATION_DENIED,
                            _("preset template %(id)s cannot be changed; copy it instead") % {"id": template.definition})


def users_of(template: AnimatedImageTemplate) -> list[str]:
    return sorted(Workflow.objects.filter(steps__template=template).distinct().values_list("name", flat=True))


def check_deletable(template: AnimatedImageTemplate) -> None:
    """Refused for presets and while a workflow uses the template."""
    if template.is_preset:
        raise LoopdeckError(ErrorCode.OPERATION_DENIED,
                            _("preset template %(id)s ships with Loopdeck and cannot be deleted") % {"id": template.definition})
    names = users_of(template)
    if names:
        raise LoopdeckError(ErrorCode.CONFLICT, _("template %(id)s is used by the workflows: %(names)s; remove it from them first")
                            % {"id": template.definition, "names": ", ".join(names)})


def delete_template(template: AnimatedImageTemplate) -> None:
    """Tasks already submitted with the template keep the parameters they copied."""
    check_deletable(template)
    try:
        with transaction.atomic():
            template.delete()
    except ProtectedError as exc:  # a workflow took it up in between
        raise LoopdeckError(ErrorCode.CONFLICT, _("template %(id)s is now used by the workflows: %(names)s")
                            % {"id": template.definition, "names": ", ".join(users_of(template))}) from exc


def copy_template(source: AnimatedImageTemplate, name: str) -> AnimatedImageTemplate:
    """A new custom template with the same parameters (presets included) under a new name."""
    name = (name or "").strip()
    if not name:
        raise LoopdeckError(ErrorCode.MISSING_PARAMETER, _("a name is required"), "name")
    if len(name) > 64:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, _("at most %(n)s characters") % {"n": 64}, "name")
    if AnimatedImageTemplate.objects.filter(name=name).exists():
        raise LoopdeckError(ErrorCode.CONFLICT, _("a template named %(name)r already exists") % {"name": name}, "name")
    try:
        with transaction.atomic():
            return source.copy(name)
    except IntegrityError as exc:
        raise LoopdeckError(ErrorCode.CONFLICT, _("a template named %(name)r already exists") % {"name": name}, "name") from exc


def save_template(form: TemplateForm) -> AnimatedImageTemplate:
    """Create or update a custom template from a TemplateForm (whose clean steps hold every
    parameter rule; an invalid form raises its first error). Presets are read-only; a name or
    definition taken meanwhile is a Conflict."""
    if not form.is_valid():
        raise first_error(form)
    if form.instance.pk is not None:
        check_editable(form.instance)
    try:
        with transaction.atomic():
            return form.save()
    except IntegrityError as exc:
        raise LoopdeckError(ErrorCode.CONFLICT, _("a template with this name or definition already exists"), "name") from exc


def changes_from_process(text: str) -> dict[str, Any]:
    """The template fields an OSS `video/animation` process string sets (only the animation part;
    saveas and notify belong to a processing request, not to a template). Errors name the
    `process` field, and their message the OSS parameter at fault."""
    try:
        return process_string.parse(text).params
    except LoopdeckError as exc:
        raise LoopdeckError(exc.code, exc.message, "process") from exc


def process_form(template: AnimatedImageTemplate) -> str:
    return process_string.render({name: getattr(template, name) for name in RenderSpec.field_names()})
