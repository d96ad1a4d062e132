"""Loopdeck spread over "machines" that share nothing but PostgreSQL, Redis and an S3 bucket.

Each machine is a folder of its own (data directory, scratch space, logs) and its processes get
only their own folder in their environment. Used by the topology test and `bench/scale_out.py`.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.s3server import S3Server, free_port

BASE_DIR = Path(__file__).resolve().parent.parent
MANAGE = str(BASE_DIR / "manage.py")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loopdeck_topology"
# Heartbeat, staleness and reconcile periods short enough for a test (production: 5, 30, 10 s).
FAST = {"HEARTBEAT_INTERVAL": "0.5", "HEARTBEAT_STALE_AFTER": "3", "RECONCILE_INTERVAL": "0.5"}


def postgres_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=1).close()
        return True
    except OSError:
        return False


def recreate_database(url: str) -> None:
    """An empty database named by `url` (dropped first if a previous run left it)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def wait_until(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def process_tree(pid: int) -> list[int]:
    """`pid` and every descendant (an RQ worker forks a work horse, which forks the render)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> None:
    for member in process_tree(pid):
        try:
            os.kill(member, sig)
        except ProcessLookupError:
            pass


@dataclass(eq=False)
class Machine:
    name: str
    root: Path
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def scratch(self) -> Path:
        return self.root / "scratch"

    def start(self, argv: list[str], label: str) -> subprocess.Popen:
        log = (self.root / f"{label}.log").open("ab")
        process = subprocess.Popen(argv, env=self.env, cwd=BASE_DIR, start_new_session=True,
                                   stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes.append(process)
        return process

    def log(self, label: str) -> str:
        path = self.root / f"{label}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stored_files(self) -> list[Path]:
        """Files in the machine's data directory: with object storage there must be none."""
        return sorted(p for p in self.data_dir.rglob("*") if p.is_file())

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                kill_tree(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_tree(process.pid)
                process.wait(timeout=10)


class Topology:
    """A web machine (gunicorn and the reconciler) and any number of worker machines."""

    def __init__(self, root: Path, database_url: str, redis_url: str, storage_env: dict[str, str],
                 **extra: str):
        self.root = root
        self.common = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": f"topology-{uuid.uuid4().hex}" * 2,
            "ALLOWED_HOSTS": "127.0.0.1", "ALLOW_PRIVATE_ADDRESSES": "true", "LOG_LEVEL": "INFO",
            **storage_env, **FAST, **extra,
        }
        self.machines: list[Machine] = []
        self.base_url = ""
        self.web: subprocess.Popen | None = None
        self.api_key = ""

    def machine(self, name: str) -> Machine:
        root = self.root / name
        (root / "data").mkdir(parents=True)
        (root / "scratch").mkdir()
        env = {**self.common, "LOOPDECK_DATA_DIR": str(root / "data"),
               "LOOPDECK_SCRATCH_DIR": str(root / "scratch"), "TMPDIR": str(root / "scratch")}
        machine = Machine(name, root, env)
        self.machines.append(machine)
        return machine

    def manage(self, machine: Machine, *args: str) -> str:
        done = subprocess.run([sys.executable, MANAGE, *args], env=machine.env, cwd=BASE_DIR,
                              capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start_web(self, threads: int = 4) -> Machine:
        """gunicorn (as the systemd unit runs it) and the reconciler on one machine."""
        web = self.machine("web")
        self.manage(web, "migrate", "--noinput", "-v", "0")
        self.api_key = self.manage(web, "shell", "-c",
                                   "from console.api.models import ApiKey; print(ApiKey.issue('topology')[1])").split()[-1]
        port = free_port()
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.web = web.start([gunicorn, "console.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                              "--threads", str(threads), "--timeout", "600"], "web")
        web.start([sys.executable, MANAGE, "reconcile"], "reconciler")
        self.base_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: self._answers(port), 30, "gunicorn to answer")
        return web

    def _answers(self, port: int) -> bool:
        if self.web is not None and self.web.poll() is not None:
            raise AssertionError("gunicorn exited:\n" + self.machines[0].log("web")[-3000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def start_worker(self, name: str) -> tuple[Machine, subprocess.Popen]:
        machine = self.machine(name)
        process = machine.start([sys.executable, MANAGE, "rqworker", "light", "encode", "--with-scheduler"],
                                "worker")
        return machine, process

    def stop(self) -> None:
        for machine in reversed(self.machines):
            machine.stop()

    # The JSON API, as a program on another machine uses it.

    def _connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.base_url)
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)

    def api(self, method: str, path: str, payload: dict | None = None) -> Any:
        conn = self._connection()
        body = json.dumps(payload).encode() if payload is not None else None
        conn.request(method, f"/api/v1{path}", body=body,
                     headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"})
        answer = conn.getresponse()
        data = answer.read()
        conn.close()
        if answer.status >= 400:
            raise AssertionError(f"{method} {path}: {answer.status} {data[:500]!r}")
        return json.loads(data)

    def upload(self, path: Path, title: str) -> dict:
        """POST /api/v1/videos, the file streamed from disk in 1 MB pieces with a Content-Length."""
        boundary = f"loopdeck-{uuid.uuid4().hex}"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        conn = self._connection()
        conn.putrequest("POST", "/api/v1/videos")
        conn.putheader("Authorization", f"Bearer {self.api_key}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + path.stat().st_size + len(tail)))
        conn.endheaders()
        conn.send(head)
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                conn.send(chunk)
        conn.send(tail)
        answer = conn.getresponse()
        data = answer.read()
        conn.close()
        if answer.status != 201:
            raise AssertionError(f"upload: {answer.status} {data[:500]!r}")
        return json.loads(data)


def topology(root: Path, database_url: str, redis_url: str, s3: S3Server, bucket: str, **extra: str) -> Topology:
    recreate_database(database_url)
    return Topology(root, database_url, redis_url, s3.env(bucket), **extra)
