"""Workflows: named, ordered lists of animated-image steps."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from console.web.forms import WorkflowForm
from console.web.views.common import show_error
from media_jobs.commands import workflows as workflow_commands
from media_jobs.errors import LoopdeckError
from media_jobs.models import AnimatedImageTemplate, Workflow, WorkflowStep


@login_required
def workflow_list(request: HttpRequest) -> HttpResponse:
    steps = Prefetch("steps", queryset=WorkflowStep.objects.select_related("template").order_by("position"))
    workflows = Workflow.objects.prefetch_related(steps).annotate(n_videos=Count("videos")).order_by("name")
    return render(request, "console/workflow_list.html", {"workflows": workflows})


def _edit(request: HttpRequest, workflow: Workflow | None) -> HttpResponse:
    initial = {"name": workflow.name, "comment": workflow.comment} if workflow else None
    form = WorkflowForm(request.POST if request.method == "POST" else None, instance=workflow, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = workflow_commands.save_workflow(workflow, form.cleaned_data["name"], form.cleaned_data["comment"],
                                                    form.steps)
        except LoopdeckError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("Workflow “%(name)s” saved.") % {"name": saved.name})
            return redirect("console-workflows")
    if request.method == "POST":
        rows = form.step_rows
    elif workflow:
        rows = [{"template": str(s.template.definition), "start": _fmt(s.start_time_offset),
                 "end": _fmt(s.end_time_offset), "error": ""} for s in workflow.steps.select_related("template")]
    else:
        rows = []
    rows.append({"template": "", "start": "", "end": "", "error": ""})  # a blank row to add a step
    return render(request, "console/workflow_form.html", {
        "form": form, "workflow": workflow, "rows": rows,
        "templates": AnimatedImageTemplate.objects.order_by("kind", "definition"),
    }, status=400 if request.method == "POST" else 200)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@login_required
def workflow_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@login_required
def workflow_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    return _edit(request, get_object_or_404(Workflow, public_id=public_id))


@login_required
def workflow_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    workflow = get_object_or_404(Workflow, public_id=public_id)
    if request.method == "POST":
        name = workflow.name
        workflow_commands.delete_workflow(workflow)
        messages.success(request, _("Workflow “%(name)s” deleted. Its tasks and animated images are kept.") % {"name": name})
        return redirect("console-workflows")
    return render(request, "console/confirm_delete.html", {
        "what": _("the workflow “%(name)s”") % {"name": workflow.name},
        "consequence": _("Tasks it already started, and their animated images, are kept."),
        "cancel_url": reverse("console-workflows"),
    })
