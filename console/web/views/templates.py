"""Animated image templates: Preset and Custom tabs, create, edit, copy, delete; the preset catalog."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from console.web.forms import CopyTemplateForm, ProcessStringForm
from console.web.views.common import flash_error, show_error
from media_jobs.commands import templates as template_commands
from media_jobs.errors import LoopdeckError
from media_jobs.forms import TemplateForm
from media_jobs.models import AnimatedImageTemplate


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    kind = "Preset" if request.GET.get("type") == "preset" else "Custom"
    templates = AnimatedImageTemplate.objects.filter(kind=kind).order_by("definition")
    return render(request, "console/template_list.html", {"templates": templates, "kind": kind})


@login_required
def preset_catalog(request: HttpRequest) -> HttpResponse:
    presets = AnimatedImageTemplate.objects.filter(kind="Preset").order_by("definition")
    return render(request, "console/preset_catalog.html", {"presets": presets})


def _filled_from_process(request: HttpRequest) -> HttpResponse:
    """The new-template form filled in from a pasted OSS process string (nothing is saved)."""
    process_form = ProcessStringForm(request.POST)
    form = TemplateForm()
    status = 200
    if process_form.is_valid():
        try:
            params = template_commands.changes_from_process(process_form.cleaned_data["process"])
        except LoopdeckError as exc:
            process_form.add_error("process", exc.message)
            status = 400
        else:
            form = TemplateForm(initial={**{n: f.initial for n, f in form.fields.items()}, **params})
            messages.info(request, _("Filled in from the process string; check the values and save."))
    else:
        status = 400
    return render(request, "console/template_form.html", {"form": form, "process_form": process_form,
                                                          "template": None}, status=status)


@login_required
def template_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and "fill_from_process" in request.POST:
        return _filled_from_process(request)
    form = TemplateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            template = template_commands.save_template(form)
        except LoopdeckError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("Template %(id)s “%(name)s” created.") % {"id": template.definition, "name": template.name})
            return redirect(reverse("console-templates") + "?type=custom")
    return render(request, "console/template_form.html", {"form": form, "template": None,
                                                          "process_form": ProcessStringForm()},
                  status=400 if request.method == "POST" else 200)


def _custom(definition: int) -> AnimatedImageTemplate:
    return get_object_or_404(AnimatedImageTemplate, definition=definition)


@login_required
def template_edit(request: HttpRequest, definition: int) -> HttpResponse:
    template = _custom(definition)
    try:
        template_commands.check_editable(template)
    except LoopdeckError:
        messages.info(request, _("Presets are read-only. Copy it to make a template you can edit."))
        return redirect("console-template-copy", definition=definition)
    form = TemplateForm(request.POST if request.method == "POST" else None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            template_commands.save_template(form)
        except LoopdeckError as exc:
            show_error(form, exc)
            return render(request, "console/template_form.html", {
                "form": form, "template": template, "template_process": template_commands.process_form(template)},
                status=400)
        messages.success(request, _("Template %(id)s saved. Tasks already submitted keep their parameters.") % {"id": definition})
        return redirect(reverse("console-templates") + "?type=custom")
    return render(request, "console/template_form.html", {
        "form": form, "template": template, "template_process": template_commands.process_form(template)},
        status=400 if request.method == "POST" else 200)


@login_required
def template_copy(request: HttpRequest, definition: int) -> HttpResponse:
    source = _custom(definition)
    form = CopyTemplateForm(request.POST if request.method == "POST" else None, initial={"name": f"Copy of {source.name}"[:64]})
    if request.method == "POST" and form.is_valid():
        try:
            copy = template_commands.copy_template(source, form.cleaned_data["name"])
        except LoopdeckError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("Copied into template %(id)s. Adjust it here.") % {"id": copy.definition})
            return redirect("console-template-edit", definition=copy.definition)
    return render(request, "console/template_copy.html", {"form": form, "source": source},
                  status=400 if request.method == "POST" else 200)


@login_required
def template_delete(request: HttpRequest, definition: int) -> HttpResponse:
    template = _custom(definition)
    back = reverse("console-templates") + ("?type=preset" if template.is_preset else "?type=custom")
    try:
        template_commands.check_deletable(template)  # before asking for a confirmation
    except LoopdeckError as exc:
        flash_error(request, exc, f"Template {definition} cannot be deleted: ")
        return redirect(back)
    if request.method == "POST":
        try:
            template_commands.delete_template(template)
        except LoopdeckError as exc:
            flash_error(request, exc, f"Template {definition} was not deleted: ")
        else:
            messages.success(request, _("Template %(id)s deleted. Tasks already submitted are not affected.") % {"id": definition})
        return redirect(back)
    return render(request, "console/confirm_delete.html", {
        "what": _("template %(id)s “%(name)s”") % {"id": definition, "name": template.name},
        "consequence": _("Tasks already submitted with it keep their parameters."),
        "cancel_url": back,
    })
