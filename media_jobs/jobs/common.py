"""What every job shares: riding out a database that is away for a moment, the running job's
id, and a local copy of a stored file in the job's scratch folder."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from django.db import InterfaceError, OperationalError, DatabaseError, connection
from django.db.models.fields.files import FieldFile
from rq import get_current_job

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long a job keeps trying a database step while the database is unreachable or locked (a
# restart, a failover, a long SQLite lock) before it gives up and leaves the rest to RQ's retry
# and the reconciler.
DATABASE_PATIENCE = 60.0


def drop_connection() -> None:
    try:
        connection.close()
    except DatabaseError:
        pass


def riding_out(step: Callable[[], T], what: str) -> T:
    """Run one idempotent database step, again on a fresh connection (a terminated one never
    recovers) while the database is away, for up to DATABASE_PATIENCE seconds. Inside a caller's
    transaction there is nothing to retry: the error goes up."""
    deadline = time.monotonic() + DATABASE_PATIENCE
    pause = 0.25
    while True:
        try:
            return step()
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or time.monotonic() + pause > deadline:
                raise
            log.warning("database unavailable while %s; trying again in %.2f s: %s", what, pause, exc)
            drop_connection()
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def current_job_id(prefix: str) -> tuple[str, int]:
    """The running RQ job's id and how many retries it has left (inline calls get none)."""
    job = get_current_job()
    if job is None:
        return f"{prefix}-inline-{os.getpid()}-{threading.get_ident()}", 0
    return job.id, int(job.retries_left or 0)


@contextmanager
def local_copy(stored: FieldFile, folder: Path) -> Iterator[Path]:
    """A local path to a stored file: the file itself on local disk, else a download into the
    job's scratch `folder` (web and workers share no disk when media lives in object storage; a
    killed job's download goes with its folder). A storage with `download_to`
    (media_jobs.storage_s3) fetches in ranged chunks."""
    try:
        yield Path(stored.path)
        return
    except NotImplementedError:
        pass
    copy = folder / f"source{Path(stored.name).suffix}"
    with copy.open("wb") as target:
        download_to = getattr(stored.storage, "download_to", None)
        if download_to is not None:
            download_to(stored.name, target)
        else:
            with stored.open("rb") as source:
                shutil.copyfileobj(source, target, 1024 * 1024)
    yield copy


