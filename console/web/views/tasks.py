"""All tasks, filterable, with a detail page, retry and abort."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from console.web.views.common import flash_error, paginate, query_without_page
from media_jobs.commands import tasks as task_commands
from media_jobs.errors import LoopdeckError
from media_jobs.models import Task, Video
from media_jobs.retry_rules import retry_refusal


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    tasks = Task.objects.select_related("video", "workflow").order_by("-created_at", "-id")
    status = request.GET.get("status", "")
    if status == "FAIL":
        tasks = tasks.filter(result=Task.Result.FAIL)
    elif status in Task.Status.values:
        tasks = tasks.filter(status=status)
    video = None
    if request.GET.get("video"):
        video = Video.objects.filter(public_id=request.GET["video"]).first() if _is_uuid(request.GET["video"]) else None
        tasks = tasks.filter(video=video)
    page = paginate(request, tasks)
    return render(request, "console/task_list.html", {
        "page": page, "status": status, "video": video, "statuses": Task.Status.choices,
        "pager_query": query_without_page(request),
    })


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _task(task_id: str) -> Task:
    return get_object_or_404(Task.objects.select_related("video", "workflow"), task_id=task_id)


@login_required
def task_detail(request: HttpRequest, task_id: str) -> HttpResponse:
    task = _task(task_id)
    outputs = list(task.outputs.select_related("video", "task").order_by("position"))
    for output in outputs:
        output.retry_refusal = retry_refusal(output) if output.status == output.Status.FAIL else None
    retryable = any(o.status == o.Status.FAIL and o.retry_refusal is None for o in outputs)
    return render(request, "console/task_detail.html", {"task": task, "outputs": outputs, "retryable": retryable})


@login_required
@require_POST
def task_retry(request: HttpRequest, task_id: str) -> HttpResponse:
    task = _task(task_id)
    try:
        count = task_commands.retry_task(task)
    except LoopdeckError as exc:
        flash_error(request, exc, "Nothing retried: ")
    else:
        messages.success(request, ngettext("Retrying %(n)s failed animated image.", "Retrying %(n)s failed animated images.",
                                           count) % {"n": count})
    return redirect("console-task", task_id=task.task_id)


@login_required
@require_POST
def task_abort(request: HttpRequest, task_id: str) -> HttpResponse:
    task = _task(task_id)
    try:
        task_commands.abort_task(task)
    except LoopdeckError as exc:
        flash_error(request, exc, "Not aborted: ")
    else:
        messages.success(request, _("Task aborted."))
    return redirect("console-task", task_id=task.task_id)
