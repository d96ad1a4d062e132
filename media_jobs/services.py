"""What the console and the API do to the library: create videos, submit tasks, retry, set covers.

Views and API endpoints call these and nothing below them, so a rule lives in one place.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Iterable

from django.core.files import File
from django.db import transaction

from media_jobs import retry_rules
from media_jobs.jobs import queues
from media_jobs.encode import EncodeError, ErrorCode, MediaInfo, RenderSpec
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video, Workflow


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

    Raises EncodeError whose `field` is `start_time_offset` / `end_time_offset` for range
    problems, so forms and the API can point at the offset the user typed.
    """
    spec = output_spec(step)
    try:
        spec.validate()
        if video.duration:
            spec.resolve_range(video.duration)
    except EncodeError as exc:
        if exc.field in ("start", "end", "duration", "trim_end"):
            exc.field = "start_time_offset" if exc.field == "start" else "end_time_offset"
        raise
    return spec


def steps_for_workflow(workflow: Workflow) -> list[StepRequest]:
    return [
        StepRequest(s.template, s.start_time_offset, s.end_time_offset)
        for s in workflow.steps.select_related("template").order_by("position")
    ]


@transaction.atomic
def submit_task(video: Video, steps: Iterable[StepRequest], origin: str = Task.Origin.CONSOLE,
                workflow: Workflow | None = None, check_range: bool = True) -> Task:
    """Create a task with one animated image per step and queue the renders after commit.

    With `check_range`, every step is checked against the video first and nothing is created
    if one is invalid. Upload workflows skip it: their outputs fail one by one instead.
    """
    steps = list(steps)
    if not steps:
        raise EncodeError(ErrorCode.MISSING_PARAMETER, "choose at least one template or a workflow", field="templates")
    if video.status == Video.Status.FAILED:
        raise EncodeError(ErrorCode.INVALID_VIDEO_FORMAT, f"the video cannot be processed: {video.error_message}")
    specs = [check_step(s, video) if check_range else output_spec(s) for s in steps]
    task = Task.objects.create(video=video, origin=origin, workflow=workflow)
    for position, (step, spec) in enumerate(zip(steps, specs, strict=True)):
        image = AnimatedImage.objects.create(
            task=task, video=video, position=position, template=step.template,
            definition=step.template.definition, template_name=step.template.name, params=spec.to_dict(),
            set_as_cover=step.template.set_as_cover, start_time_offset=step.start_time_offset,
            end_time_offset=step.end_time_offset,
        )
        if video.status == Video.Status.READY:
            enqueue_render(image)
    return task


def enqueue_render(image: AnimatedImage) -> str:
    """Queue a render of this image once the surrounding transaction commits."""
    job_id = f"render-{image.public_id}-{uuid.uuid4().hex[:8]}"
    AnimatedImage.objects.filter(pk=image.pk).update(rq_job_id=job_id)
    image.rq_job_id = job_id
    queues.enqueue_render(image.pk, job_id)
    return job_id


def enqueue_prepare(video: Video) -> str:
    """Queue probing and cover extraction once the surrounding transaction commits."""
    job_id = f"prepare-{video.public_id}-{uuid.uuid4().hex[:8]}"
    Video.objects.filter(pk=video.pk).update(prepare_job_id=job_id)
    video.prepare_job_id = job_id
    queues.enqueue_prepare(video.pk, job_id)
    return job_id


@transaction.atomic
def create_video(upload: File, title: str, workflow: Workflow | None = None,
                 info: MediaInfo | None = None, origin: str = Task.Origin.UPLOAD) -> Video:
    """Store an uploaded original and queue its preparation (cover, then the workflow's task).

    `info` is the probe the upload form already made; without it the prepare job probes.
    """
    video = Video(title=title[:255] or "Untitled", original_filename=(upload.name or "")[:255],
                  size=upload.size or 0, workflow=workflow)
    if info is not None:
        video.apply_probe(info)
    video.file.save(upload.name or "upload", upload, save=False)
    video.save()
    if workflow is not None:
        submit_task(video, steps_for_workflow(workflow), origin=origin, workflow=workflow, check_range=False)
    enqueue_prepare(video)
    return video


@transaction.atomic
def retry_image(image: AnimatedImage) -> None:
    image.reset_for_retry()
    enqueue_render(image)


@transaction.atomic
def retry_task(task: Task) -> int:
    """Retry every failed output of a finished task that can succeed. Returns how many were queued."""
    # Only what can succeed: a failure that describes the input would fail the same way again.
    failed = [image for image in task.outputs.filter(status=AnimatedImage.Status.FAIL).select_related("video", "task")
              if retry_rules.can_retry(image)]
    for image in failed:
        retry_image(image)
    return len(failed)


@transaction.atomic
def fail_video(video: Video, code: str, message: str) -> None:
    """The file cannot be used: fail it and every output still waiting on it, with one error."""
    video.mark_failed(code, message)
    waiting = list(AnimatedImage.objects.filter(video=video, status=AnimatedImage.Status.WAITING).select_related("task"))
    for image in waiting:
        image.record_failure(code, message)
    for task in {image.task for image in waiting}:
        task.refresh_status()


@transaction.atomic
def save_workflow(workflow: Workflow | None, name: str, comment: str, steps: Iterable[StepRequest]) -> Workflow:
    """Create a workflow, or replace an existing one's name, comment and ordered steps."""
    steps = list(steps)
    if not steps:
        raise EncodeError(ErrorCode.MISSING_PARAMETER, "a workflow needs at least one step", field="steps")
    for step in steps:
        errors = output_spec(step).errors()
        if errors:
            field, message = next(iter(errors.items()))
            raise EncodeError(ErrorCode.INVALID_PARAMETER, f"{step.template.name}: {field} {message}", field="steps")
    workflow = workflow or Workflow()
    workflow.name, workflow.comment = name, comment
    workflow.save()
    workflow.steps.all().delete()
    for position, step in enumerate(steps):
        workflow.steps.create(position=position, template=step.template,
                              start_time_offset=step.start_time_offset, end_time_offset=step.end_time_offset)
    return workflow


@transaction.atomic
def set_cover(video: Video, image: AnimatedImage | None) -> None:
    """Make a finished animated image the video's cover, or restore the static cover with None."""
    video.set_cover(image)


@transaction.atomic
def delete_animated_image(image: AnimatedImage) -> None:
    """Delete an output and its file; a video whose cover it was goes back to its static cover."""
    Video.objects.filter(cover_animated=image).update(cover_animated=None)
    stored = image.file
    image.delete()
    if stored:
        transaction.on_commit(lambda: stored.storage.delete(stored.name))


def rename_video(video: Video, title: str) -> None:
    """Give a video a new title (1-255 characters after trimming)."""
    title = title.strip()
    if not title:
        raise EncodeError(ErrorCode.MISSING_PARAMETER, "a title is required", field="title")
    if len(title) > 255:
        raise EncodeError(ErrorCode.INVALID_PARAMETER, "the title is longer than 255 characters", field="title")
    video.title = title
    video.save(update_fields=["title", "updated_at"])
