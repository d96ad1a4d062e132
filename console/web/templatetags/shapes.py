"""`{% shapes_for "on_output" %}`: the payload shapes that carry an event flag, space-separated,
for the subscription form's script to show only what the chosen shape can deliver."""

from __future__ import annotations

from django import template

from media_jobs.callbacks.subscriptions import shape_flags

register = template.Library()


@register.simple_tag
def shapes_for(flag: str) -> str:
    return " ".join(shape for shape, flags in shape_flags().items() if flag in flags)
