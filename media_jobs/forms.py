"""Validation of what operators and programs submit, shared by the console and the JSON API.

Each form coerces its fields and then applies the encode core's validation routine
(`RenderSpec.errors()`), attaching every problem to the field it concerns: the console shows it
beside the field, the API returns it with the field's name. One rule, one message, both places.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from media_jobs import spec_messages
from media_jobs.encode import RenderSpec
from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.models import AnimatedImageTemplate

PARAM_FIELDS = RenderSpec.field_names()
_PARAM_MODEL_FIELDS = [f for f in AnimatedImageTemplate._meta.fields if f.name in PARAM_FIELDS]
# A blank box means "unset" for nullable parameters and "the default" for the others.
_NULLABLE = {f.name for f in _PARAM_MODEL_FIELDS if f.null}
_DEFAULTS = {f.name: f.default for f in _PARAM_MODEL_FIELDS}
_BOOLEANS = {f.name for f in AnimatedImageTemplate._meta.fields if f.get_internal_type() == "BooleanField"}


def first_error(form: forms.BaseForm) -> LoopdeckError:
    """An invalid form's first error as the project's error, in the form's own words (a missing
    value is MissingParameter, a name taken is Conflict)."""
    for name, errors in form.errors.as_data().items():
        error = errors[0]
        text = " ".join(str(m) for m in error.messages)
        code = {"required": ErrorCode.MISSING_PARAMETER, "unique": ErrorCode.CONFLICT}.get(
            error.code, ErrorCode.INVALID_PARAMETER)
        return LoopdeckError(code, text, None if name == "__all__" else name)
    return LoopdeckError(ErrorCode.INVALID_PARAMETER, "the request is invalid")


class TemplateForm(forms.ModelForm):
    """Create or edit a custom animated image template."""

    class Meta:
        model = AnimatedImageTemplate
        fields = ["name", "comment", *PARAM_FIELDS, "set_as_cover"]
        labels = {
            "name": _("Name"),
            "comment": _("Comment"),
            "format": _("Format"),
            "width": _("Width"),
            "height": _("Height"),
            "scale_mode": _("Scale mode"),
            "set_as_cover": _("Set as cover"),
            "fps": _("Frame rate (fps)"),
            "interval_ms": _("Sampling interval (ms)"),
            "max_frames": _("Frame cap"),
            "playback_fps": _("Playback rate (fps)"),
            "start": _("Start offset (s)"),
            "end": _("End offset (s)"),
            "duration": _("Duration (s)"),
            "trim_end": _("Trim from end (s)"),
            "quality": _("WebP quality"),
            "lossless": _("Lossless WebP"),
            "colors": _("GIF colours"),
            "dither": _("GIF dithering"),
            "palette_mode": _("GIF palette"),
            "loop": _("Loop count (0 = forever)"),
            # xgettext:no-python-format
            "width_percent": _("Width (% of source)"),
            # xgettext:no-python-format
            "height_percent": _("Height (% of source)"),
            "resolution_adaptive": _("Resolution-adaptive (width/height are long/short edge)"),
            "max_size_kb": _("Size budget (KB)"),
            "budget_order": _("To fit the budget, lower"),
        }
        help_texts = {
            "max_size_kb": _("Optional. A render over it is made again with lower settings until it fits; "
                             "if nothing fits, the output fails (nothing over budget is stored)."),
            "budget_order": _("A comma-separated order of quality (WebP), colors (GIF), fps, size."),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name in PARAM_FIELDS:
            field = self.fields[name]
            if not isinstance(field, forms.BooleanField):
                # A blank box means "the default", as in the vendors' consoles.
                field.required = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        params = {}
        for name in PARAM_FIELDS:
            if name in self.errors:
                continue
            value = cleaned.get(name)
            if value in (None, "") and name not in _NULLABLE:
                value = _DEFAULTS[name]
                cleaned[name] = value
            params[name] = value
        if any(name in self.errors for name in PARAM_FIELDS):
            return cleaned
        spec = RenderSpec(**params)
        for name, message in spec.errors().items():
            message = spec_messages.translate(message)
            self.add_error(name, message[0].upper() + message[1:] + ".")
        return cleaned

    @classmethod
    def data_for(cls, base: AnimatedImageTemplate | None, changes: dict[str, Any]) -> dict[str, Any]:
        """`base`'s current values (a new template's defaults without one) with `changes` over
        them, for front doors that send only the fields that change (the API, the vendor
        dialects). A null boolean means "leave as is"; other nulls are the form's blank."""
        instance = base if base is not None else AnimatedImageTemplate()
        data = {name: getattr(instance, name) for name in cls._meta.fields}
        for name, value in changes.items():
            if value is None and name in _BOOLEANS:
                continue
            data[name] = value
        return data

    @classmethod
    def with_changes(cls, base: AnimatedImageTemplate | None, changes: dict[str, Any]) -> "TemplateForm":
        """A form bound to `data_for(base, changes)` that saves into `base` (a new one without)."""
        return cls(data=cls.data_for(base, changes), instance=base)

    def save(self, commit: bool = True) -> AnimatedImageTemplate:
        template = super().save(commit=False)
        template.kind = AnimatedImageTemplate.Kind.CUSTOM
        if commit:
            template.save()
        return template
