"""A worker machine's cache of sources fetched from object storage.

Every render of a video stored in a bucket would otherwise download the whole source first:
163 MB took 0.9 s of a 2.5 s render (case A, `bench/wait.py --storage s3`), and a video usually
gets several renders (one per template, then retries and re-renders). Stored names are never
reused for other content (a taken name gets a new one), so a name and its size identify the
bytes.

The cache is a folder in this machine's scratch space (`SOURCE_CACHE_MB` large, least recently
used first out). A job gets a hard link to the cached file in its own scratch folder, so
evicting it while a render reads it frees nothing until the render is done; where a link cannot
be made (another file system) the job gets a copy. Downloads land under a temporary name and are
renamed into place whole: two workers fetching the same source both succeed, and a killed
download leaves only a temporary file, swept with the rest.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from media_jobs.jobs.scratch import scratch_root

log = logging.getLogger(__name__)

FOLDER = "loopdeck-sources"
PARTIAL = ".partial-"
STALE_PARTIAL_SECONDS = 3600.0


def cache_dir() -> Path:
    path = Path(scratch_root()) / FOLDER
    path.mkdir(parents=True, exist_ok=True)
    return path


def capacity() -> int:
    return int(settings.SOURCE_CACHE_MB) * 1024 * 1024


def fetch(name: str, size: int, download: Callable[[Path], None], target: Path) -> bool:
    """Put the bytes of stored `name` (`size` bytes) at `target`; `download(path)` writes them
    to `path`. Returns whether they came from the cache."""
    limit = capacity()
    if limit <= 0 or size > limit:
        download(target)
        return False
    folder = cache_dir()
    digest = hashlib.sha256(f"{name}\0{size}".encode()).hexdigest()[:32]
    cached = folder / f"{digest}{Path(name).suffix}"
    hit = cached.is_file() and cached.stat().st_size == size
    if not hit:
        partial = folder / f"{PARTIAL}{uuid.uuid4().hex}"
        try:
            download(partial)
            if partial.stat().st_size != size:
                raise OSError(f"the download of {name} has {partial.stat().st_size} bytes, not {size}")
            os.replace(partial, cached)
        finally:
            partial.unlink(missing_ok=True)
    else:
        os.utime(cached)  # most recently used
    _place(cached, target)
    evict(folder, limit, keep=cached)
    return hit


def _place(cached: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(cached, target)
    except OSError:
        shutil.copyfile(cached, target)


def evict(folder: Path, limit: int, keep: Path | None = None) -> None:
    """Remove the least recently used sources until the folder holds at most `limit` bytes,
    and temporary files of downloads that died."""
    entries = []
    for path in folder.iterdir():
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # another worker's eviction
        if path.name.startswith(PARTIAL):
            if stat.st_mtime < time.time() - STALE_PARTIAL_SECONDS:
                path.unlink(missing_ok=True)
            continue
        entries.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries, key=lambda entry: entry[0]):
        if total <= limit:
            break
        if path == keep:
            continue
        path.unlink(missing_ok=True)
        total -= size
        log.info("source cache: evicted %s (%d bytes)", path.name, size)

