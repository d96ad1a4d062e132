"""Small helpers shared by the console's views."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django import forms
from django.contrib import messages
from django.http import HttpRequest

from media_jobs.errors import LoopdeckError

PER_PAGE = 25


def paginate(request: HttpRequest, queryset: QuerySet, per_page: int = PER_PAGE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, for pager links that keep them."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def show_error(form: forms.BaseForm, exc: LoopdeckError) -> None:
    """A command's refusal beside the field it concerns (on top when the form has no such field)."""
    form.add_error(exc.field if exc.field in form.fields else None, _sentence(exc.message))


def flash_error(request: HttpRequest, exc: LoopdeckError, prefix: str = "") -> None:
    messages.error(request, f"{prefix}{_sentence(exc.message)}")


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")) if text else text
