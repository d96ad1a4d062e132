"""The encode core's parameter messages in the user's language. The core imports nothing from
Django (so no gettext there); its messages follow a few fixed patterns, matched here at the
boundary where a form shows them. A message that matches none stays as it is."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

_PATTERNS: list[tuple[re.Pattern[str], object]] = [
    (re.compile(r"must be a whole number$"), lambda m: _("must be a whole number")),
    (re.compile(r"must be a number$"), lambda m: _("must be a number")),
    (re.compile(r"must be 0 or between (\S+) and (\S+)$"),
     lambda m: _("must be 0 or between %(lo)s and %(hi)s") % {"lo": m[1], "hi": m[2]}),
    (re.compile(r"must be between (-?[\d.]+) and ([\d.]+) seconds$"),
     lambda m: _("must be between %(lo)s and %(hi)s seconds") % {"lo": m[1], "hi": m[2]}),
    (re.compile(r"must be between (\S+) and (\S+)$"),
     lambda m: _("must be between %(lo)s and %(hi)s") % {"lo": m[1], "hi": m[2]}),
    (re.compile(r"must be one of (.+)$"), lambda m: _("must be one of %(values)s") % {"values": m[1]}),
    (re.compile(r"use either a size in pixels or a percentage, not both$"),
     lambda m: _("use either a size in pixels or a percentage, not both")),
    (re.compile(r"must be true or false$"), lambda m: _("must be true or false")),
    (re.compile(r"a comma-separated order of (.+), each at most once$"),
     lambda m: _("a comma-separated order of %(values)s, each at most once") % {"values": m[1]}),
    (re.compile(r"must be a number of seconds$"), lambda m: _("must be a number of seconds")),
    (re.compile(r"must be more than 0 and at most (\S+) seconds$"),
     lambda m: _("must be more than 0 and at most %(hi)s seconds") % {"hi": m[1]}),
    (re.compile(r"must be after the start$"), lambda m: _("must be after the start")),
]


def translate(message: str) -> str:
    for pattern, render in _PATTERNS:
        match = pattern.match(message)
        if match:
            return render(match)  # type: ignore[operator]
    return message
