"""Runs Loopdeck's processes on one machine: web server, RQ workers, reconciler (and Redis when
the run command starts one). Restarts any that die; Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc (empty where there is none)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL a child's process group and everything below it. An RQ worker runs each job in a
    work horse with a process group of its own (and the horse renders in a child of its own), so
    killing the worker's group alone would leave the render running with nobody to supervise it."""
    below = descendants(pid)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for other in below:
        try:
            os.kill(other, signal.SIGKILL)
        except ProcessLookupError:
            pass


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = 0.0

    def start(self, env: dict[str, str]) -> None:
        # A new session: Ctrl-C in the terminal reaches only the supervisor, which then stops
        # the children in order (workers get a warm shutdown instead of a KeyboardInterrupt).
        self.process = subprocess.Popen(self.argv, env=env, start_new_session=True)
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Supervisor:
    children: list[Child]
    env: dict[str, str]
    log: Callable[[str], None] = print
    stopping: bool = False
    _signals: int = field(default=0)

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signals += 1
        self.stopping = True
        if self._signals > 1:
            self.log("Second interrupt: killing everything now.")
            for child in self.children:
                if child.alive():
                    kill_tree(child.process.pid)

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        for child in self.children:
            child.start(self.env)
        while not self.stopping:
            now = time.monotonic()
            for child in self.children:
                if child.alive() or self.stopping:
                    continue
                if child.next_start == 0.0:
                    code = child.process.returncode if child.process else None
                    # Back off when a process keeps dying right after it starts.
                    quick = now - child.started_at < 10
                    child.restarts = child.restarts + 1 if quick else 0
                    delay = min(30.0, 2.0 ** child.restarts) if quick else 1.0
                    child.next_start = now + delay
                    self.log(f"{child.name} exited with status {code}; restarting in {delay:.0f} s")
                elif now >= child.next_start:
                    child.next_start = 0.0
                    child.start(self.env)
            time.sleep(0.5)
        self.stop()
        return 0

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM every child (workers finish or re-queue their job), wait, then SIGKILL."""
        self.log("Stopping Loopdeck…")
        for child in reversed(self.children):
            if child.alive():
                try:
                    os.killpg(child.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for child in reversed(self.children):
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.log(f"{child.name} did not stop in time; killing it")
                kill_tree(child.process.pid)
                child.process.wait()
        self.log("Stopped.")


def python_argv(*args: str) -> list[str]:
    return [sys.executable, *args]


def worker_argv(manage: str) -> list[str]:
    """An RQ worker for every queue: callback deliveries (short, bounded by their timeout) first,
    then light jobs (probes, covers), then renders. The scheduler runs the spaced retries of
    transient failures and of callback deliveries."""
    return python_argv(manage, "rqworker", "callbacks", "light", "encode", "--with-scheduler")


def quick_worker_argv(manage: str) -> list[str]:
    """A worker that never renders, so callbacks and probes do not wait behind long encodes."""
    return python_argv(manage, "rqworker", "callbacks", "light", "--with-scheduler")


def reconciler_argv(manage: str) -> list[str]:
    return python_argv(manage, "reconcile")
