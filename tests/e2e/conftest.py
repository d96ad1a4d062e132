"""Worker processes started exactly as the run command starts them, against a database both the
test and the worker can see (the file SQLite test database, or PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
from django.conf import settings
from django.db import connection

from console.process.supervisor import descendants, reconciler_argv, worker_argv

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def process_env(redis_url: str, media_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REDIS_URL=redis_url, DATABASE_URL=database_url(), MEDIA_ROOT=str(media_root),
        HEARTBEAT_INTERVAL="0.5", HEARTBEAT_STALE_AFTER="3", RECONCILE_INTERVAL="0.5",
        LOOPDECK_DATA_DIR=str(settings.DATA_DIR),
    )
    return env


@pytest.fixture
def start_process(process_env: dict[str, str]) -> Iterator[Callable[[str], subprocess.Popen]]:
    started: list[subprocess.Popen] = []

    def start(kind: str) -> subprocess.Popen:
        argv = worker_argv(MANAGE) if kind == "worker" else reconciler_argv(MANAGE)
        process = subprocess.Popen(argv, env=process_env, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        return process

    yield start
    for process in started:
        kill_tree(process)


def kill_tree(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    for pid in [process.pid, *descendants(process.pid)]:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    process.wait(timeout=30)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
