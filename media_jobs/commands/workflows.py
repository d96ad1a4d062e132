"""Workflows: ordered steps (a template and optional offsets) run on a video at upload or later."""

from __future__ import annotations

from typing import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from media_jobs.commands.tasks import StepRequest, check_count, output_spec
from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.models import Workflow

MAX_NAME = 64
MAX_COMMENT = 256


def clean_name(name: str, workflow: Workflow | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise LoopdeckError(ErrorCode.MISSING_PARAMETER, _("a name is required"), "name")
    if len(name) > MAX_NAME:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, _("at most %(n)s characters") % {"n": MAX_NAME}, "name")
    clash = Workflow.objects.filter(name=name)
    if workflow is not None:
        clash = clash.exclude(pk=workflow.pk)
    if clash.exists():
        raise LoopdeckError(ErrorCode.CONFLICT, _("a workflow named %(name)r already exists") % {"name": name}, "name")
    return name


def check_steps(steps: list[StepRequest]) -> None:
    check_count(len(steps), "steps", _("step"), _("steps"))
    for index, step in enumerate(steps):
        errors = output_spec(step).errors()
        if errors:
            field, message = next(iter(errors.items()))
            raise LoopdeckError(ErrorCode.INVALID_PARAMETER, f"{step.template.name}: {field} {message}",
                                f"steps[{index}]")


@transaction.atomic
def save_workflow(workflow: Workflow | None, name: str, comment: str, steps: Iterable[StepRequest]) -> Workflow:
    """Create a workflow, or replace an existing one's name, comment and ordered steps."""
    steps = list(steps)
    name = clean_name(name, workflow)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, _("at most %(n)s characters") % {"n": MAX_COMMENT}, "comment")
    check_steps(steps)
    workflow = workflow or Workflow()
    workflow.name, workflow.comment = name, comment
    try:
        with transaction.atomic():
            workflow.save()
    except IntegrityError as exc:  # a concurrent save took the name
        raise LoopdeckError(ErrorCode.CONFLICT, _("a workflow named %(name)r already exists") % {"name": name}, "name") from exc
    workflow.steps.all().delete()
    for position, step in enumerate(steps):
        workflow.steps.create(position=position, template=step.template,
                              start_time_offset=step.start_time_offset, end_time_offset=step.end_time_offset)
    return workflow


def delete_workflow(workflow: Workflow) -> None:
    """Tasks and animated images it made are kept."""
    workflow.delete()
