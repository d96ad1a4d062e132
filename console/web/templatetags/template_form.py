"""Helpers for the template form: which time-range mode a form shows, and the videos a preview
can run on."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from media_jobs.models import Video

register = template.Library()

RANGE_MODES = (("end", _("End offset"), _("Tencent-style: an end time; negative counts from the end")),
               ("duration", _("Duration"), _("Alibaba: this many seconds from the start")),
               ("trim_end", _("Trim from end"), _("Alibaba End: cut this many seconds off the tail")))


@register.simple_tag
def range_mode(form) -> str:
    """The mode whose field holds a value (the template's or the one posted); end by default."""
    for name in ("duration", "trim_end", "end"):
        if form[name].value() not in (None, ""):
            return name
    return "end"


@register.simple_tag
def range_modes() -> tuple[tuple[str, str, str], ...]:
    return RANGE_MODES


@register.simple_tag
def preview_videos(limit: int = 50) -> list[Video]:
    return list(Video.objects.filter(status=Video.Status.READY).only("public_id", "title", "duration")
                .order_by("-created_at")[:limit])


@register.simple_tag
def process_form(template_row) -> str:  # noqa: ANN001
    """The template as an Alibaba OSS process string."""
    from media_jobs.commands.templates import process_form as as_process

    return as_process(template_row)
