"""`image|retry_refusal`: why a failed animated image gets no Retry button (empty when it may)."""

from __future__ import annotations

from django import template

from media_jobs import retry_rules

register = template.Library()


@register.filter
def retry_refusal(image) -> str:
    return retry_rules.retry_refusal(image) or ""
