"""Tasks and their outputs: submit, retry, abort, delete an output."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from media_jobs import retry_rules
from media_jobs.encode import EncodeError, RenderSpec
from media_jobs.errors import ErrorCode, LoopdeckError, from_encode
from media_jobs.jobs import queues
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Event, Task, Video, Workflow
from media_jobs.models.events import announce

# One cap for the outputs of a task and the steps of a workflow (a workflow becomes one task).
MAX_OUTPUTS_PER_TASK = 50


@dataclass(frozen=True)
class StepRequest:
    """One animated image to make: a template and an optional start/end override (seconds,
    negative from the end; Tencent's StartTimeOffset/EndTimeOffset)."""

    template: AnimatedImageTemplate
    start_time_offset: float | None = None
    end_time_offset: float | None = None


def output_spec(step: StepRequest) -> RenderSpec:
    """The template's parameters with the step's time override applied."""
    spec = step.template.spec()
    changes: dict[str, float | None] = {}
    if step.start_time_offset is not None:
        changes["start"] = step.start_time_offset
    if step.end_time_offset is not None:
        # Tencent: an end offset of 0 means "the end of the video".
        changes.update(end=step.end_time_offset or None, duration=None, trim_end=None)
    return spec.replace(**changes) if changes else spec


def check_step(step: StepRequest, video: Video) -> RenderSpec:
    """The step's spec, validated and checked against the video's duration.

    Range problems name `start_time_offset` / `end_time_offset`, the offsets the user typed."""
    spec = output_spec(step)
    try:
        spec.validate()
        if video.duration:
            spec.resolve_range(video.duration)
    except EncodeError as exc:
        field = exc.field
        if field in ("start", "end", "duration", "trim_end"):
            field = "start_time_offset" if field == "start" else "end_time_offset"
        raise from_encode(exc, field) from exc
    return spec


def check_count(count: int, field: str, one: str, many: str) -> None:
    """`one` / `many`: what is counted, already translated ("template" / "templates")."""
    if count == 0:
        raise LoopdeckError(ErrorCode.MISSING_PARAMETER, _("choose at least one %(what)s") % {"what": one}, field)
    if count > MAX_OUTPUTS_PER_TASK:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER,
                            _("at most %(n)s %(what)s (one animated image each); got %(count)s")
                            % {"n": MAX_OUTPUTS_PER_TASK, "what": many, "count": count}, field)


def steps_for_workflow(workflow: Workflow) -> list[StepRequest]:
    return [
        StepRequest(s.template, s.start_time_offset, s.end_time_offset)
        for s in workflow.steps.select_related("template").order_by("position")
    ]


@transaction.atomic
def submit_task(video: Video, steps: Iterable[StepRequest], origin: str = Task.Origin.CONSOLE,
                workflow: Workflow | None = None, check_range: bool = True, field: str = "templates",
                session_id: str = "", session_context: str = "", notify_topic: str = "") -> Task:
    """Create a task with one animated image per step and queue the renders after commit.

    With `check_range`, every step is checked against the video first and nothing is created
    if one is invalid. Upload workflows skip it: their outputs fail one by one instead.
    A `session_id` seen in the last VENDOR_SESSION_DAYS returns that task instead (Tencent's
    de-duplication of ProcessMedia)."""
    if session_id:
        since = timezone.now() - timedelta(days=settings.VENDOR_SESSION_DAYS)
        earlier = Task.objects.filter(session_id=session_id, created_at__gte=since).order_by("created_at").first()
        if earlier is not None:
            return earlier
    steps = list(steps)
    check_count(len(steps), field, _("template"), _("templates"))
    if video.status == Video.Status.FAILED:
        raise LoopdeckError(ErrorCode.INVALID_VIDEO_FORMAT, _("the video cannot be processed: %(why)s") % {"why": video.error_message},
                            "video_id")
    specs = []
    for index, step in enumerate(steps):
        try:
            specs.append(check_step(step, video) if check_range else output_spec(step))
        except LoopdeckError as exc:
            if len(steps) > 1:
                exc.message = f"{step.template.name}: {exc.message}"
            exc.step = index  # type: ignore[attr-defined]  # which item, for the API's field path
            raise
    task = Task.objects.create(video=video, origin=origin, workflow=workflow, session_id=session_id[:50],
                               session_context=session_context[:1000], notify_topic=notify_topic[:100])
    for position, (step, spec) in enumerate(zip(steps, specs, strict=True)):
        image = AnimatedImage.objects.create(
            task=task, video=video, position=position, template=step.template,
            definition=step.template.definition, template_name=step.template.name, params=spec.to_dict(),
            set_as_cover=step.template.set_as_cover, start_time_offset=step.start_time_offset,
            end_time_offset=step.end_time_offset,
        )
        if video.status == Video.Status.READY:
            queues.enqueue_render_of(image)
    return task


@transaction.atomic
def retry_image(image: AnimatedImage) -> None:
    """A failed output whose failure a rerun can fix goes back to WAITING (Conflict otherwise)."""
    refusal = retry_rules.retry_refusal(image)
    if refusal is not None:
        raise LoopdeckError(ErrorCode.CONFLICT, _("%(name)s cannot be retried: %(why)s") % {"name": image.template_name, "why": refusal})
    image.reset_for_retry()
    queues.enqueue_render_of(image)


@transaction.atomic
def retry_task(task: Task) -> int:
    """Retry every failed output of a task that a rerun can fix. Returns how many were queued;
    Conflict when none can be (an aborted task, no failure, or only failures of the input)."""
    if task.status == Task.Status.ABORTED:
        raise LoopdeckError(ErrorCode.CONFLICT, _("the task was aborted; submit a new one"))
    failed = list(task.outputs.select_related("video", "task").filter(status=AnimatedImage.Status.FAIL))
    if not failed:
        raise LoopdeckError(ErrorCode.CONFLICT, _("the task has no failed animated image to retry"))
    retryable = [image for image in failed if retry_rules.can_retry(image)]
    if not retryable:
        raise LoopdeckError(ErrorCode.CONFLICT, _("no failed animated image of this task can succeed on a retry "
                                                  "(their failures come from the input); submit a new task"))
    for image in retryable:
        image.reset_for_retry()
        queues.enqueue_render_of(image)
    return len(retryable)


@transaction.atomic
def abort_task(task: Task) -> Task:
    """Stop a task that has not finished: its queued outputs are taken off the queue, a running
    one stops at its render's next heartbeat (no file is kept), and every unfinished output fails
    with `Aborted`. The task ends ABORTED. Conflict when it has already finished."""
    task = Task.objects.select_for_update().select_related("video").get(pk=task.pk)
    if task.is_final:
        raise LoopdeckError(ErrorCode.CONFLICT, _("the task is %(status)s; only an unfinished task can be aborted") % {"status": task.status})
    unfinished = list(task.outputs.filter(status__in=[AnimatedImage.Status.WAITING, AnimatedImage.Status.PROCESSING])
                      .select_related("video").order_by("position"))
    now = timezone.now()
    for image in unfinished:
        message = "aborted while rendering" if image.status == AnimatedImage.Status.PROCESSING else "aborted before it started"
        AnimatedImage.objects.filter(pk=image.pk).update(
            status=AnimatedImage.Status.FAIL, error_code=ErrorCode.ABORTED, error_message=message, finished_at=now)
    task.status = Task.Status.ABORTED
    task.finished_at = now
    task.save(update_fields=["status", "finished_at"])
    for image in unfinished:
        image.refresh_from_db()
        announce(Event.Kind.OUTPUT, image.video, task=task, image=image)
    announce(Event.Kind.TASK_FINISH, task.video, task=task)
    job_ids = [image.rq_job_id for image in unfinished if image.rq_job_id]
    transaction.on_commit(lambda: queues.cancel(job_ids))
    return task


@transaction.atomic
def delete_animated_image(image: AnimatedImage) -> None:
    """Delete a finished output and its file; a video whose cover it was goes back to its static
    cover. Conflict while it is waiting or rendering (abort the task first)."""
    image.refresh_from_db(fields=["status"])
    if not image.is_final:
        raise LoopdeckError(ErrorCode.CONFLICT, _("the animated image is %(status)s; abort its task or wait until it is done, then delete it")
                            % {"status": image.status})
    Video.objects.filter(cover_animated=image).update(cover_animated=None)
    stored = image.file
    image.delete()
    if stored:
        transaction.on_commit(lambda: stored.storage.delete(stored.name))
