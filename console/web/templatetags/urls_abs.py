"""`url|absolute`: a media URL as another site must write it (PUBLIC_BASE_URL in front), for
embed snippets that are pasted outside the console."""

from __future__ import annotations

from django import template

from media_jobs.callbacks.events import absolute_url

register = template.Library()


@register.filter
def absolute(url: str) -> str:
    return absolute_url(url)
