"""Models to API dictionaries (the shapes in `schemas`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from media_jobs.commands import templates as template_commands
from media_jobs.encode import RenderSpec
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video, Workflow


def absolute(request: HttpRequest, url: str) -> str | None:
    return request.build_absolute_uri(url) if url else None


def template(t: AnimatedImageTemplate) -> dict[str, Any]:
    return {
        "definition": t.definition, "process": template_commands.process_form(t), "type": t.kind, "name": t.name,
        "comment": t.comment,
        "description": t.description, **{name: getattr(t, name) for name in RenderSpec.field_names()},
        "set_as_cover": t.set_as_cover, "created_at": t.created_at, "updated_at": t.updated_at,
    }


def workflow(w: Workflow) -> dict[str, Any]:
    return {
        "id": w.public_id, "name": w.name, "comment": w.comment, "created_at": w.created_at,
        "updated_at": w.updated_at,
        "steps": [
            {"definition": s.template.definition, "template_name": s.template.name,
             "start_time_offset": s.start_time_offset, "end_time_offset": s.end_time_offset}
            for s in w.steps.all()
        ],
    }


def animated_image(request: HttpRequest, i: AnimatedImage, cover_id: int | None = None) -> dict[str, Any]:
    if cover_id is None:
        cover_id = i.video.cover_animated_id
    done = i.status == AnimatedImage.Status.SUCCESS
    return {
        "id": i.public_id, "task_id": i.task.task_id, "video_id": i.video.public_id,
        "definition": i.definition, "template_name": i.template_name, "status": i.status,
        "progress": i.progress, "error_code": i.error_code, "error_message": i.error_message,
        "start_time_offset": i.start_time_offset, "end_time_offset": i.end_time_offset,
        "url": absolute(request, i.file.url) if i.file else None,
        "container": i.container or None, "width": i.width, "height": i.height, "bitrate": i.bitrate,
        "size": i.size, "md5": i.md5 or None, "frames": i.frames, "fps": i.fps, "duration": i.duration,
        "start_offset": i.start_offset if done else None, "end_offset": i.end_offset if done else None,
        "clipped": i.clipped, "budget_steps": list(i.budget_steps or []), "is_cover": cover_id == i.pk, "created_at": i.created_at,
        "begun_at": i.begun_at, "finished_at": i.finished_at,
    }


def video(request: HttpRequest, v: Video) -> dict[str, Any]:
    return {
        "id": v.public_id, "title": v.title, "original_filename": v.original_filename, "status": v.status,
        "error_code": v.error_code, "error_message": v.error_message, "size": v.size,
        "duration": v.duration, "width": v.width, "height": v.height, "container": v.container,
        "workflow_id": v.workflow.public_id if v.workflow_id else None,
        "cover_url": absolute(request, v.cover_url),
        "cover_animated_image_id": v.cover_animated.public_id if v.cover_animated_id else None,
        "created_at": v.created_at, "updated_at": v.updated_at,
    }


def video_detail(request: HttpRequest, v: Video) -> dict[str, Any]:
    info = v.media_info
    images = v.animated_images.select_related("task", "video").order_by("created_at", "position")
    return {
        **video(request, v),
        "metadata": info.to_metadata() if info else None,
        "animated_images": [animated_image(request, i, v.cover_animated_id) for i in images],
    }


def task(request: HttpRequest, t: Task) -> dict[str, Any]:
    outputs = list(t.outputs.select_related("video", "task").order_by("position"))
    cover_id = t.video.cover_animated_id
    return {
        "task_id": t.task_id, "video_id": t.video.public_id,
        "workflow_id": t.workflow.public_id if t.workflow_id else None, "origin": t.origin,
        "status": t.status, "result": t.result,
        "progress": round(sum(o.progress for o in outputs) / len(outputs)) if outputs else 0,
        "error_code": t.error_code, "error_message": t.error_message, "created_at": t.created_at,
        "begun_at": t.begun_at, "finished_at": t.finished_at,
        "animated_graphic_task_set": [animated_image(request, o, cover_id) for o in outputs],
    }
