"""`text|markdown` and `text|markdown_inline`: the API's OpenAPI descriptions are Markdown
(bold, code, lists, links), so the reference page renders them instead of showing the marks.

markdown-it-py is a maintained CommonMark implementation; raw HTML in the text is escaped
(`html` off), so the output is safe to mark as such."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

register = template.Library()


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


@register.filter
def markdown(text: object) -> SafeString:
    return mark_safe(_md().render(str(text or "")))  # noqa: S308 - html is off: the source is escaped


@register.filter
def markdown_inline(text: object) -> SafeString:
    return mark_safe(_md().renderInline(str(text or "")))  # noqa: S308 - as above
