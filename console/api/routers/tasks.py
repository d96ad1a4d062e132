"""Tasks: submit (Tencent `ProcessMedia` with `AnimatedGraphicTaskSet`, or a workflow), get, list,
retry, abort."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status

from console.api import serialize
from console.api.common import DEFAULT_LIMIT, MAX_LIMIT, attribute, get, page
from console.api.errors import ApiError
from console.api.routers.workflows import step_requests
from console.api.schemas import Error, Page, RetryOut, TaskIn, TaskOut
from media_jobs.commands import tasks as task_commands
from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.models import Task, Video, Workflow

router = Router(tags=["Tasks"])
ERRORS = {400: Error, 401: Error, 404: Error, 409: Error, 429: Error}
SET = "animated_graphic_task_set"


def _tasks():
    return Task.objects.select_related("video", "workflow")


def _task(task_id: UUID) -> Task:
    return get(_tasks(), "task", task_id=task_id)


def _steps(payload: TaskIn, video: Video) -> tuple[list[task_commands.StepRequest], Workflow | None]:
    if payload.animated_graphic_task_set is not None and payload.workflow_id is not None:
        raise ApiError(ErrorCode.INVALID_PARAMETER, f"workflow_id: give {SET} or workflow_id, not both", "workflow_id")
    if payload.workflow_id is not None:
        workflow = Workflow.objects.filter(public_id=payload.workflow_id).first()
        if workflow is None:
            raise ApiError(ErrorCode.RESOURCE_NOT_FOUND, f"workflow_id: workflow {payload.workflow_id} does not exist",
                           "workflow_id")
        return task_commands.steps_for_workflow(workflow), workflow
    return step_requests(payload.animated_graphic_task_set or [], SET), None


@router.post("", response={201: TaskOut, **ERRORS}, summary="Submit a task")
def submit_task(request: HttpRequest, payload: TaskIn):
    """One animated image per item of `animated_graphic_task_set` (offsets in seconds, negative
    from the end; null keeps the template's), or one per step of `workflow_id`. Every item is
    checked against the video first; nothing is created if one is invalid. Send an
    `Idempotency-Key` header so a retried request creates one task, not two."""
    video = Video.objects.filter(public_id=payload.video_id).first()
    if video is None:
        raise ApiError(ErrorCode.RESOURCE_NOT_FOUND, f"video_id: video {payload.video_id} does not exist", "video_id")
    steps, workflow = _steps(payload, video)
    try:
        task = task_commands.submit_task(video, steps, origin=Task.Origin.API, workflow=workflow,
                                         field="workflow_id" if workflow else SET)
    except LoopdeckError as exc:
        index = getattr(exc, "step", None)
        if index is not None and workflow is None:
            # The item at fault, in the request's own terms.
            exc.field = f"{SET}[{index}].{exc.field}" if exc.field else f"{SET}[{index}]"
        raise
    attribute(request, "task", task.task_id)
    return Status(201, serialize.task(request, _task(task.task_id)))


@router.get("", response={200: Page[TaskOut], **ERRORS}, summary="List tasks")
def list_tasks(request: HttpRequest,
               status: Literal["WAITING", "PROCESSING", "FINISH", "ABORTED"] | None = Query(None),
               video_id: UUID | None = Query(None), created_after: datetime | None = Query(None),
               created_before: datetime | None = Query(None),
               offset: int = Query(0, ge=0, le=10**9), limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    """Newest first (Tencent `DescribeTasks`)."""
    tasks = _tasks()
    if status is not None:
        tasks = tasks.filter(status=status)
    if video_id is not None:
        tasks = tasks.filter(video__public_id=video_id)
    if created_after is not None:
        tasks = tasks.filter(created_at__gte=created_after)
    if created_before is not None:
        tasks = tasks.filter(created_at__lt=created_before)
    return page(tasks.order_by("-created_at", "-id"), offset, limit, lambda t: serialize.task(request, t))


@router.get("/{uuid:task_id}", response={200: TaskOut, **ERRORS}, summary="Get a task")
def get_task(request: HttpRequest, task_id: UUID):
    """Status, each output's status and progress, error code and message, output fields
    (Tencent `DescribeTaskDetail`)."""
    return serialize.task(request, _task(task_id))


@router.post("/{uuid:task_id}/retry", response={200: RetryOut, **ERRORS}, summary="Retry a task's failed outputs")
def retry_task(request: HttpRequest, task_id: UUID):
    """Every FAIL output goes back to WAITING. 409 when the task has no failed output."""
    task = _task(task_id)
    queued = task_commands.retry_task(task)
    attribute(request, "task", task.task_id)
    return {"queued": queued, "task": serialize.task(request, _task(task_id))}


@router.post("/{uuid:task_id}/abort", response={200: TaskOut, **ERRORS}, summary="Abort a task")
def abort_task(request: HttpRequest, task_id: UUID):
    """A WAITING or PROCESSING task ends ABORTED: queued outputs are taken off the queue, a
    running render stops at its next heartbeat, and each unfinished output fails with `Aborted`.
    409 once the task has finished."""
    task = _task(task_id)
    task_commands.abort_task(task)
    attribute(request, "task", task.task_id)
    return serialize.task(request, _task(task_id))
