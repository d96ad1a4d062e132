"""Console forms. Uploads are probed while the form validates, so a file that is not a usable
video is a form error beside the field, never a failed job. Template parameters are validated by
media_jobs.forms.TemplateForm (shared with the API)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from media_jobs.commands import tasks as task_commands
from media_jobs.commands import videos as video_commands
from media_jobs.errors import LoopdeckError
from media_jobs.models import AnimatedImageTemplate, Video, Workflow


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Video file"))
    title = forms.CharField(max_length=255, required=False, help_text=gettext_lazy("Defaults to the file name."))
    workflow = forms.ModelChoiceField(
        queryset=Workflow.objects.all(), required=False, empty_label=gettext_lazy("No processing"),
        label=gettext_lazy("Process video during upload"),
    )

    @property
    def max_upload_size(self) -> int:
        """Bytes: the upload page's script refuses bigger files before sending them."""
        return settings.MAX_UPLOAD_SIZE

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        try:
            self.media_info = video_commands.check_upload(upload)
        except LoopdeckError as exc:
            message = exc.message if exc.code == "FileTooLarge" else f"{exc.code}: {exc.message}"
            raise forms.ValidationError(message[:1].upper() + message[1:], code=str(exc.code)) from exc
        return upload

    def clean_title(self) -> str:
        try:
            return video_commands.clean_title(self.cleaned_data["title"], required=False)
        except LoopdeckError as exc:
            raise forms.ValidationError(exc.message, code=str(exc.code)) from exc


class TemplateChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: AnimatedImageTemplate) -> str:
        return f"{obj.definition} · {obj.name}"


class ProcessForm(forms.Form):
    """Start processing an existing video: templates (each with the same offsets) or a workflow."""

    templates = TemplateChoiceField(
        queryset=AnimatedImageTemplate.objects.all(), required=False, label=gettext_lazy("Templates"),
        widget=forms.CheckboxSelectMultiple,
    )
    workflow = forms.ModelChoiceField(queryset=Workflow.objects.all(), required=False, label=gettext_lazy("Or a workflow"),
                                      empty_label="—")
    start_time_offset = forms.FloatField(required=False, label=gettext_lazy("Start offset (s)"),
                                         help_text=gettext_lazy("Negative counts from the end. Blank: the template’s."))
    end_time_offset = forms.FloatField(required=False, label=gettext_lazy("End offset (s)"),
                                       help_text=gettext_lazy("Negative counts from the end; 0 is the end. Blank: the template’s."))

    def __init__(self, *args: Any, video: Video, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.video = video

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        templates, workflow = cleaned.get("templates"), cleaned.get("workflow")
        if not templates and not workflow:
            self.add_error("templates", _("Choose at least one template or a workflow."))
            return cleaned
        if templates and workflow:
            self.add_error("workflow", _("Choose templates or a workflow, not both."))
            return cleaned
        if workflow:
            self.steps = task_commands.steps_for_workflow(workflow)
        else:
            start, end = cleaned.get("start_time_offset"), cleaned.get("end_time_offset")
            self.steps = [task_commands.StepRequest(t, start, end) for t in templates]
        return cleaned


class ProcessStringForm(forms.Form):
    """Paste an Alibaba OSS process string; the template form below fills in from it."""

    process = forms.CharField(label=gettext_lazy("OSS process string"), max_length=2000,
                              widget=forms.TextInput(attrs={"placeholder": "video/animation,f_gif,w_100,h_100,inter_1000",
                                                            "class": "mono"}),
                              help_text=gettext_lazy("Alibaba OSS video/animation parameters: ss, f, num, inter, fps, w, h, pw, ph, "
                                                "scaletype."))


class PreviewOffsetsForm(forms.Form):
    """The Processing tab's offsets as a preview posts them (the same fields as ProcessForm's)."""

    start_time_offset = forms.FloatField(required=False)
    end_time_offset = forms.FloatField(required=False)


class WorkflowForm(forms.Form):
    """A workflow's name and comment; its steps come as parallel lists (template, start, end)."""

    name = forms.CharField(max_length=64, label=gettext_lazy("Name"))
    comment = forms.CharField(max_length=256, required=False, label=gettext_lazy("Comment"))

    def __init__(self, *args: Any, instance: Workflow | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.step_rows: list[dict[str, Any]] = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        definitions = self.data.getlist("step_template") if hasattr(self.data, "getlist") else []
        starts = self.data.getlist("step_start") if hasattr(self.data, "getlist") else []
        ends = self.data.getlist("step_end") if hasattr(self.data, "getlist") else []
        templates = AnimatedImageTemplate.objects.in_bulk([d for d in definitions if d.isdigit()], field_name="definition")
        self.steps: list[task_commands.StepRequest] = []
        for index, definition in enumerate(definitions):
            row = {"template": definition, "start": _at(starts, index), "end": _at(ends, index), "error": ""}
            self.step_rows.append(row)
            if not definition:
                continue
            template = templates.get(int(definition)) if definition.isdigit() else None
            try:
                start, end = _seconds(row["start"]), _seconds(row["end"])
            except ValueError:
                row["error"] = _("Offsets must be numbers of seconds.")
                continue
            if template is None:
                row["error"] = _("Choose a template.")
                continue
            step = task_commands.StepRequest(template, start, end)
            problems = task_commands.output_spec(step).errors()
            if problems:
                field, message = next(iter(problems.items()))
                row["error"] = f"{field.replace('_', ' ')} {message}."
                continue
            self.steps.append(step)
        if any(row["error"] for row in self.step_rows):
            self.add_error(None, _("Fix the steps marked below."))
        return cleaned


def _at(values: list[str], index: int) -> str:
    return values[index].strip() if index < len(values) else ""


def _seconds(text: str) -> float | None:
    return float(text) if text else None


class RenameForm(forms.Form):
    title = forms.CharField(max_length=255)


class CopyTemplateForm(forms.Form):
    name = forms.CharField(max_length=64, label=gettext_lazy("Name of the copy"))
