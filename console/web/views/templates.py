"""Animated image templates: Preset and Custom tabs, create, edit, copy, delete; the preset catalog."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from console.web.forms import CopyTemplateForm
from media_jobs.forms import TemplateForm
from media_jobs.models import AnimatedImageTemplate, Workflow


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    kind = "Preset" if request.GET.get("type") == "preset" else "Custom"
    templates = AnimatedImageTemplate.objects.filter(kind=kind).order_by("definition")
    return render(request, "console/template_list.html", {"templates": templates, "kind": kind})


@login_required
def preset_catalog(request: HttpRequest) -> HttpResponse:
    presets = AnimatedImageTemplate.objects.filter(kind="Preset").order_by("definition")
    return render(request, "console/preset_catalog.html", {"presets": presets})


@login_required
def template_create(request: HttpRequest) -> HttpResponse:
    form = TemplateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        template = form.save()
        messages.success(request, f"Template {template.definition} “{template.name}” created.")
        return redirect(reverse("console-templates") + "?type=custom")
    return render(request, "console/template_form.html", {"form": form, "template": None},
                  status=400 if request.method == "POST" else 200)


def _custom(definition: int) -> AnimatedImageTemplate:
    return get_object_or_404(AnimatedImageTemplate, definition=definition)


@login_required
def template_edit(request: HttpRequest, definition: int) -> HttpResponse:
    template = _custom(definition)
    if template.is_preset:
        messages.info(request, "Presets are read-only. Copy it to make a template you can edit.")
        return redirect("console-template-copy", definition=definition)
    form = TemplateForm(request.POST if request.method == "POST" else None, instance=template)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Template {definition} saved. Tasks already submitted keep their parameters.")
        return redirect(reverse("console-templates") + "?type=custom")
    return render(request, "console/template_form.html", {"form": form, "template": template},
                  status=400 if request.method == "POST" else 200)


@login_required
def template_copy(request: HttpRequest, definition: int) -> HttpResponse:
    source = _custom(definition)
    form = CopyTemplateForm(request.POST if request.method == "POST" else None, initial={"name": f"Copy of {source.name}"[:64]})
    if request.method == "POST" and form.is_valid():
        copy = source.copy(form.cleaned_data["name"])
        messages.success(request, f"Copied into template {copy.definition}. Adjust it here.")
        return redirect("console-template-edit", definition=copy.definition)
    return render(request, "console/template_copy.html", {"form": form, "source": source},
                  status=400 if request.method == "POST" else 200)


@login_required
def template_delete(request: HttpRequest, definition: int) -> HttpResponse:
    template = _custom(definition)
    back = reverse("console-templates") + ("?type=preset" if template.is_preset else "?type=custom")
    users = Workflow.objects.filter(steps__template=template).distinct()
    if template.is_preset or users:
        reason = ("Presets ship with Loopdeck and cannot be deleted." if template.is_preset else
                  "It is used by the workflow" + ("s " if len(users) > 1 else " ")
                  + ", ".join(f"“{w.name}”" for w in users) + ". Remove it from them first.")
        messages.error(request, f"Template {definition} cannot be deleted. {reason}")
        return redirect(back)
    if request.method == "POST":
        try:
            template.delete()
        except ProtectedError:
            messages.error(request, f"Template {definition} is now used by a workflow and was not deleted.")
            return redirect(back)
        messages.success(request, f"Template {definition} deleted. Tasks already submitted are not affected.")
        return redirect(back)
    return render(request, "console/confirm_delete.html", {
        "what": f"template {definition} “{template.name}”",
        "consequence": "Tasks already submitted with it keep their parameters.",
        "cancel_url": back,
    })
