"""Compile the translation catalogues (locale/*/LC_MESSAGES/*.po -> .mo) with polib, in pure
Python: a fresh machine has Python but not GNU gettext, and compiled .mo files are not kept in
the repository. Run at start-up by `manage.py serve` and the test command; a .mo newer than its
.po is left alone."""

from __future__ import annotations

from pathlib import Path

import polib


def compile_catalogues(root: Path) -> list[Path]:
    written = []
    for po_path in sorted(root.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalogue = polib.pofile(str(po_path))
        tmp = mo_path.with_suffix(".mo.tmp")
        catalogue.save_as_mofile(str(tmp))
        tmp.replace(mo_path)  # a reader never sees half a catalogue
        written.append(mo_path)
    return written
