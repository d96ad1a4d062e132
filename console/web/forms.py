"""Console forms. Uploads are probed while the form validates, so a file that is not a usable
video is a form error beside the field, never a failed job. Template parameters are validated by
media_jobs.forms.TemplateForm (shared with the API)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from console.middleware.uploads import clean_title
from media_jobs import services
from media_jobs.encode import EncodeError, MediaInfo, probe_isolated
from media_jobs.models import AnimatedImageTemplate, Video, Workflow


def probe_upload(upload: UploadedFile) -> MediaInfo:
    """Probe an uploaded file where it lies (Django spools large uploads to a temporary file)."""
    if hasattr(upload, "temporary_file_path"):
        return probe_isolated(upload.temporary_file_path(), timeout=settings.PROBE_TIMEOUT)
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name or "").suffix[:8]) as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        upload.seek(0)
        return probe_isolated(tmp.name, timeout=settings.PROBE_TIMEOUT)


class UploadForm(forms.Form):
    file = forms.FileField(label="Video file")
    title = forms.CharField(max_length=255, required=False, help_text="Defaults to the file name.")
    workflow = forms.ModelChoiceField(
        queryset=Workflow.objects.all(), required=False, empty_label="No processing",
        label="Process video during upload",
    )

    @property
    def max_upload_size(self) -> int:
        """Bytes: the upload page's script refuses bigger files before sending them."""
        return settings.MAX_UPLOAD_SIZE

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size and upload.size > settings.MAX_UPLOAD_SIZE:
            raise forms.ValidationError(
                f"The file is larger than the {settings.MAX_UPLOAD_SIZE // (1024 * 1024)} MiB limit.",
                code="FileTooLarge",
            )
        try:
            self.media_info = probe_upload(upload)
        except EncodeError as exc:
            raise forms.ValidationError(f"{exc.code}: {exc.message}", code=str(exc.code)) from exc
        return upload

    def clean_title(self) -> str:
        return clean_title(self.cleaned_data["title"])


class TemplateChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: AnimatedImageTemplate) -> str:
        return f"{obj.definition} · {obj.name}"


class ProcessForm(forms.Form):
    """Start processing an existing video: templates (each with the same offsets) or a workflow."""

    templates = TemplateChoiceField(
        queryset=AnimatedImageTemplate.objects.all(), required=False, label="Templates",
        widget=forms.CheckboxSelectMultiple,
    )
    workflow = forms.ModelChoiceField(queryset=Workflow.objects.all(), required=False, label="Or a workflow",
                                      empty_label="—")
    start_time_offset = forms.FloatField(required=False, label="Start offset (s)",
                                         help_text="Negative counts from the end. Blank: the template's.")
    end_time_offset = forms.FloatField(required=False, label="End offset (s)",
                                       help_text="Negative counts from the end; 0 is the end. Blank: the template's.")

    def __init__(self, *args: Any, video: Video, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.video = video

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        templates, workflow = cleaned.get("templates"), cleaned.get("workflow")
        if not templates and not workflow:
            self.add_error("templates", "Choose at least one template or a workflow.")
            return cleaned
        if templates and workflow:
            self.add_error("workflow", "Choose templates or a workflow, not both.")
            return cleaned
        if workflow:
            self.steps = services.steps_for_workflow(workflow)
        else:
            start, end = cleaned.get("start_time_offset"), cleaned.get("end_time_offset")
            self.steps = [services.StepRequest(t, start, end) for t in templates]
        for step in self.steps:
            try:
                services.check_step(step, self.video)
            except EncodeError as exc:
                field = exc.field if exc.field in self.fields else None
                self.add_error(field, f"{step.template.name}: {exc.message}")
                break
        return cleaned


class WorkflowForm(forms.Form):
    """A workflow's name and comment; its steps come as parallel lists (template, start, end)."""

    name = forms.CharField(max_length=64)
    comment = forms.CharField(max_length=256, required=False)

    def __init__(self, *args: Any, instance: Workflow | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.step_rows: list[dict[str, Any]] = []

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Workflow.objects.filter(name=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A workflow with this name already exists.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        definitions = self.data.getlist("step_template") if hasattr(self.data, "getlist") else []
        starts = self.data.getlist("step_start") if hasattr(self.data, "getlist") else []
        ends = self.data.getlist("step_end") if hasattr(self.data, "getlist") else []
        templates = AnimatedImageTemplate.objects.in_bulk([d for d in definitions if d.isdigit()], field_name="definition")
        self.steps: list[services.StepRequest] = []
        for index, definition in enumerate(definitions):
            row = {"template": definition, "start": _at(starts, index), "end": _at(ends, index), "error": ""}
            self.step_rows.append(row)
            if not definition:
                continue
            template = templates.get(int(definition)) if definition.isdigit() else None
            try:
                start, end = _seconds(row["start"]), _seconds(row["end"])
            except ValueError:
                row["error"] = "Offsets must be numbers of seconds."
                continue
            if template is None:
                row["error"] = "Choose a template."
                continue
            step = services.StepRequest(template, start, end)
            problems = services.output_spec(step).errors()
            if problems:
                field, message = next(iter(problems.items()))
                row["error"] = f"{field.replace('_', ' ')} {message}."
                continue
            self.steps.append(step)
        if any(row["error"] for row in self.step_rows):
            self.add_error(None, "Fix the steps marked below.")
        elif not self.steps:
            self.add_error(None, "Add at least one step.")
        return cleaned


def _at(values: list[str], index: int) -> str:
    return values[index].strip() if index < len(values) else ""


def _seconds(text: str) -> float | None:
    return float(text) if text else None


class RenameForm(forms.Form):
    title = forms.CharField(max_length=255)


class CopyTemplateForm(forms.Form):
    name = forms.CharField(max_length=64, label="Name of the copy")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if AnimatedImageTemplate.objects.filter(name=name).exists():
            raise forms.ValidationError("A template with this name already exists.")
        return name
