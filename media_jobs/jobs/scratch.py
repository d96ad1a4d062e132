"""Scratch folders for jobs, in this machine's scratch space (LOOPDECK_SCRATCH_DIR, the temp folder by default), and the sweep of those a killed job left behind.

A job's folder holds an exclusive flock on its `.lock` file for as long as the job runs. The
kernel drops the lock when the last process holding it dies, however it dies (SIGKILL, the OOM
killer), so a folder whose lock can be taken belongs to nobody, while a live render of another
worker on the same machine keeps its folder. The sweep runs when a worker starts, before each
job, and on every reconciler pass.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

PREFIXES = ("loopdeck-render-", "loopdeck-prepare-", "loopdeck-fetch-", "loopdeck-proxy-", "loopdeck-preview-",
            "loopdeck-strip-")
# A folder is made and locked under this prefix, then renamed: the sweep never meets a folder
# of a live job before its lock is held.
STAGING = "loopdeck-new-"
STAGING_GRACE_SECONDS = 60.0
LOCK_NAME = ".lock"


def scratch_root() -> str:
    """This machine's scratch space: sources fetched from object storage and renders in progress
    live here, never in the media storage."""
    os.makedirs(settings.SCRATCH_DIR, exist_ok=True)
    return str(settings.SCRATCH_DIR)


@contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A new folder in the scratch space, locked while the block runs, removed after it."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown scratch prefix {prefix!r}")
    path = Path(tempfile.mkdtemp(prefix=STAGING, dir=scratch_root()))
    try:
        fd = os.open(path / LOCK_NAME, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            named = path.with_name(prefix + path.name[len(STAGING):])
            os.rename(path, named)
            path = named
            yield path
        finally:
            os.close(fd)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep(directory: str | None = None) -> list[str]:
    """Remove the scratch folders no live job holds; return their paths."""
    removed = []
    try:
        entries = list(os.scandir(directory or scratch_root()))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        try:
            if not entry.name.startswith((*PREFIXES, STAGING)) or not entry.is_dir(follow_symlinks=False):
                continue
            if (entry.name.startswith(STAGING)
                    and now - entry.stat(follow_symlinks=False).st_mtime < STAGING_GRACE_SECONDS):
                continue
            if _abandoned(Path(entry.path)):
                shutil.rmtree(entry.path, ignore_errors=True)
                log.info("removed %s, left by a job that was killed", entry.path)
                removed.append(entry.path)
        except OSError:
            continue
    return removed


def _abandoned(path: Path) -> bool:
    """Whether no process holds the folder's lock (a folder without one predates the locks)."""
    try:
        fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # also drops the lock just taken
    return True
