"""What every job shares: riding out a database that is away for a moment, the running job's
id, and a local copy of a stored file in the job's scratch folder."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import tenacity
from django.db import InterfaceError, OperationalError, DatabaseError, connection
from django.db.models.fields.files import FieldFile
from rq import get_current_job

from media_jobs.jobs import source_cache

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


def _outside_a_transaction(state: tenacity.RetryCallState) -> bool:
    exc = state.outcome.exception() if state.outcome else None
    # Inside a caller's transaction a fresh connection cannot redo the caller's earlier work.
    return isinstance(exc, (OperationalError, InterfaceError)) and not connection.in_atomic_block


def _before_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning("database unavailable while %s; trying again in %.2f s: %s", state.args[1],
                state.upcoming_sleep, exc)
    drop_connection()  # a terminated connection never recovers; the next step opens a new one


# tenacity rather than our own loop: the stop/wait/retry policy is declared in one place and
# reads as such, and the library is kept and widely used (pip, OpenStack); the retry behaviour
# is the same as before (0.25 s doubling to 2 s, DATABASE_PATIENCE in all, the error re-raised).
@tenacity.retry(
    retry=_outside_a_transaction,
    stop=tenacity.stop_before_delay(DATABASE_PATIENCE),
    wait=tenacity.wait_exponential(multiplier=0.25, min=0.25, max=2.0),
    before_sleep=_before_retry,
    reraise=True,
)
def riding_out(step: Callable[[], T], what: str) -> T:
    """Run one idempotent database step, again on a fresh connection while the database is away,
    for up to DATABASE_PATIENCE seconds. Inside a caller's transaction there is nothing to retry:
    the error goes up."""
    return step()


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
    killed job's download goes with its folder), through this machine's cache of sources
    (`source_cache`). A storage with `download_to` (media_jobs.storage_s3) fetches in ranged
    chunks."""
    try:
        yield Path(stored.path)
        return
    except NotImplementedError:
        pass
    copy = folder / f"source{Path(stored.name).suffix}"

    def download(path: Path) -> None:
        with path.open("wb") as target:
            download_to = getattr(stored.storage, "download_to", None)
            if download_to is not None:
                download_to(stored.name, target)
            else:
                with stored.open("rb") as source:
                    shutil.copyfileobj(source, target, 1024 * 1024)

    source_cache.fetch(stored.name, stored.storage.size(stored.name), download, copy)
    yield copy


