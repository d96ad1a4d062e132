"""File sizes as the console shows them: powers of 1024 labelled with binary units (KiB, MiB,
GiB), so 12,045,651 bytes reads "11.5 MiB", never "11.5 MB"."""

from __future__ import annotations

from django import template

register = template.Library()

_UNITS = ("KiB", "MiB", "GiB", "TiB")


def binary_size(value: object) -> str:
    try:
        size = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if size < 1024:
        n = int(size)
        return f"{n} byte{'s' if n != 1 else ''}"
    for unit in _UNITS:
        size /= 1024
        if size < 1024 or unit == _UNITS[-1]:
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")


register.filter("binary_size", binary_size)
