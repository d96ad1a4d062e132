"""Workflows: named, ordered lists of animated images, run at upload or on an existing video."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status

from console.api import serialize
from console.api.common import DEFAULT_LIMIT, MAX_LIMIT, attribute, get, page
from console.api.errors import ApiError
from console.api.schemas import Error, Page, StepIn, WorkflowIn, WorkflowOut
from media_jobs.commands import tasks as task_commands
from media_jobs.commands import workflows as workflow_commands
from media_jobs.errors import ErrorCode
from media_jobs.models import AnimatedImageTemplate, Workflow

router = Router(tags=["Workflows"])
ERRORS = {400: Error, 401: Error, 404: Error, 409: Error, 429: Error}


def _workflows():
    return Workflow.objects.prefetch_related("steps__template")


def step_requests(items: list[StepIn], field: str) -> list[task_commands.StepRequest]:
    """Steps from definitions; an unknown definition is an error naming the item."""
    templates = AnimatedImageTemplate.objects.in_bulk([i.definition for i in items], field_name="definition")
    steps = []
    for index, item in enumerate(items):
        template = templates.get(item.definition)
        if template is None:
            where = f"{field}[{index}].definition"
            raise ApiError(ErrorCode.INVALID_PARAMETER, f"{where}: template {item.definition} does not exist", where)
        steps.append(task_commands.StepRequest(template, item.start_time_offset, item.end_time_offset))
    return steps


def _save(request: HttpRequest, workflow: Workflow | None, payload: WorkflowIn) -> Workflow:
    steps = step_requests(payload.steps, "steps")
    saved = workflow_commands.save_workflow(workflow, payload.name, payload.comment, steps)
    attribute(request, "workflow", saved.public_id)
    return _workflows().get(pk=saved.pk)


@router.get("", response={200: Page[WorkflowOut], **ERRORS}, summary="List workflows")
def list_workflows(request: HttpRequest, offset: int = Query(0, ge=0, le=10**9),
                   limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    return page(_workflows().order_by("name"), offset, limit, serialize.workflow)


@router.get("/{uuid:workflow_id}", response={200: WorkflowOut, **ERRORS}, summary="Get a workflow")
def get_workflow(request: HttpRequest, workflow_id: UUID):
    return serialize.workflow(get(_workflows(), "workflow", public_id=workflow_id))


@router.post("", response={201: WorkflowOut, **ERRORS}, summary="Create a workflow")
def create_workflow(request: HttpRequest, payload: WorkflowIn):
    return Status(201, serialize.workflow(_save(request, None, payload)))


@router.put("/{uuid:workflow_id}", response={200: WorkflowOut, **ERRORS}, summary="Replace a workflow")
def update_workflow(request: HttpRequest, workflow_id: UUID, payload: WorkflowIn):
    """Name, comment and the whole ordered list of steps are replaced."""
    workflow = get(Workflow.objects.all(), "workflow", public_id=workflow_id)
    return serialize.workflow(_save(request, workflow, payload))


@router.delete("/{uuid:workflow_id}", response={204: None, **ERRORS}, summary="Delete a workflow")
def delete_workflow(request: HttpRequest, workflow_id: UUID):
    """Tasks and animated images it made are kept."""
    workflow = get(Workflow.objects.all(), "workflow", public_id=workflow_id)
    workflow_commands.delete_workflow(workflow)
    attribute(request, "workflow", workflow_id)
    return Status(204, None)
