"""Refuses NUL characters and lone surrogates in request text (query strings, form fields, JSON
bodies).

No title, name or search term legitimately holds U+0000, and PostgreSQL cannot store or even
compare one: without this, `?search=%00` or a JSON name with `\\u0000` ended as a 500. A lone
surrogate (U+D800 to U+DFFF, written `"\\ud800"` in JSON) is half of a character and no text at
all: it cannot be encoded as UTF-8, so saving one was a 500 as well. One check here covers every
view and endpoint, present and future, with a named 400 instead. (Query strings and form fields
are decoded by Django with replacement characters, so only JSON can carry a surrogate.)
Multipart bodies are left alone: parsing one here would spool an anonymous API upload to disk
before the key is checked; their text fields are checked by the forms (Django's CharField
refuses NUL) and the API upload cleans its title.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a parsed JSON document (keys included), with where it sits."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path, str(key)
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _bad(text: str) -> bool:
    return "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)


def _reads_json(request: HttpRequest) -> bool:
    # The API parses any body that is not a form as JSON, whatever its Content-Type says.
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return False
    return request.content_type == "application/json" or request.path.startswith("/api/v1/")


def first_nul_field(request: HttpRequest) -> str | None:
    """The name of the first field holding a NUL character or a lone surrogate, or None."""
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            return name.replace("\x00", "")
    if request.method in ("POST", "PUT", "PATCH"):
        if _reads_json(request):
            try:
                document = json.loads(request.body or b"null")
            except (ValueError, RecursionError, RequestDataTooBig):
                return None  # console.api.envelope answers bad, deep or oversized JSON
            for path, text in _strings(document):
                if _bad(text):
                    return path or "body"
        elif request.content_type == "application/x-www-form-urlencoded":
            for name, values in request.POST.lists():
                if "\x00" in name or any("\x00" in v for v in values):
                    return name.replace("\x00", "")
    return None


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = first_nul_field(request)
        if field is None:
            return self.get_response(request)
        message = f"{field}: text cannot contain NUL (U+0000) characters or lone surrogates (U+D800 to U+DFFF)"
        if request.path.startswith("/api/v1/"):
            from console.api.errors import ApiError, error_response

            return error_response(request, ApiError("InvalidParameter", message, field))
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
