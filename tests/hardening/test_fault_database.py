"""The database away for a moment while workers finish renders and record their results.

SQLite: another connection holds an exclusive lock (a backup, a long admin transaction), so every
write waits. PostgreSQL: the animated-image table is locked, then every other connection is terminated
(what a restart or a failover does to its clients): the workers' next statements fail and must be
tried again on a new connection. Either way the renders' results are recorded once the database
is back, no output file is left without its row (or twice on disk), no event is lost, and no
task stays PROCESSING."""

from __future__ import annotations

import sqlite3
import time

import pytest
from django.db import connection

from media_jobs.commands import tasks as task_commands
from media_jobs.models import AnimatedImage, AnimatedImageTemplate
from tests.hardening.conftest import assert_nothing_lost, open_count, poll, ready_video

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TASKS = 8
OUTAGE = 4.0  # seconds
# Longer than the outage, so the reconciler never takes a render away from a live worker here:
# every result must come from the render that made it, recorded once the database is back.
STALE_AFTER = "10"


def take_database_away(seconds: float) -> None:
    """Hold the database for `seconds`; on PostgreSQL, then drop every other connection."""
    db = connection.settings_dict
    connection.close()  # the test's own connection would be terminated too
    if db["ENGINE"].endswith("sqlite3"):
        other = sqlite3.connect(db["NAME"], timeout=30, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        other.execute("ROLLBACK")
        other.close()
        return
    import psycopg

    other = psycopg.connect(host=db["HOST"] or "localhost", port=db["PORT"] or 5432, user=db["USER"],
                            password=db["PASSWORD"] or None, dbname=db["NAME"], autocommit=True)
    with other, other.transaction():
        # One table (every render step reads or writes it): locking several one after the other
        # could deadlock with a worker's transaction that holds one of them.
        other.execute("LOCK TABLE media_jobs_animatedimage IN ACCESS EXCLUSIVE MODE")
        time.sleep(seconds)
        other.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def test_results_are_recorded_once_the_database_is_back(slow_clip, run_worker, processes, media_root, settings):
    settings.HEARTBEAT_STALE_AFTER = float(STALE_AFTER)
    video = ready_video(slow_clip, run_worker, "database away")
    template = AnimatedImageTemplate.objects.create(name="half second", format="gif", fps=15, duration=8,
                                                    palette_mode="per_frame")
    tasks = [task_commands.submit_task(video, [task_commands.StepRequest(template)]) for _ in range(TASKS)]
    pks = [t.pk for t in tasks]
    for _ in range(2):
        processes.start("worker", HEARTBEAT_STALE_AFTER=STALE_AFTER)
    processes.start("reconciler", HEARTBEAT_STALE_AFTER=STALE_AFTER)

    poll(lambda: AnimatedImage.objects.filter(task__in=pks, status=AnimatedImage.Status.SUCCESS).exists()
         and AnimatedImage.objects.filter(task__in=pks, status=AnimatedImage.Status.PROCESSING).exists(),
         60, "renders under way", processes)
    take_database_away(OUTAGE)
    finished_after = poll(lambda: open_count(pks) == 0, 90, "every task to finish once the database is back",
                          processes)
    retried = processes.logs(lines=10_000).count("database unavailable while")
    print(f"\ndatabase away {OUTAGE:.0f} s ({connection.vendor}): every task FINISH {finished_after:.1f} s after "
          f"it came back; {retried} database steps tried again")
    assert_nothing_lost(tasks, media_root)
    attempts = list(AnimatedImage.objects.filter(task__in=pks).values_list("attempts", flat=True))
    assert attempts == [1] * TASKS, f"renders redone or lost: attempts {attempts}\n{processes.logs()}"
    # Well inside the retry interval (10 s) and the staleness bound: nothing waited for them.
    assert finished_after < 8, processes.logs()
    if connection.vendor == "postgresql":
        assert retried, "the terminated connections never reached a worker's database step"
