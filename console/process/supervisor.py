"""Runs Loopdeck's processes on one machine: web server, RQ workers, reconciler (and Redis when
the run command starts one). Restarts any that die, with back-off; Ctrl-C stops them all.

Redis is a child like the others, restarted when it dies, but others depend on it: a worker
that exits while Redis is down (an RQ worker exits when its connection drops) is not restarted
into a crash loop with a growing back-off; it waits and starts as soon as Redis answers again.
On the way down Redis stops last, so workers can still record the job they finish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

# How often the supervisor looks at its children.
TICK = 0.5


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
    # Whether the child serves yet (Redis: answers PING); None: as soon as it runs.
    ready: Callable[[], bool] | None = None
    # Not (re)started while this one is down or not ready.
    needs: Child | None = None
    waiting: bool = False  # exited while what it needs was down; starts when that answers
    announce: bool = False  # restarted and not yet ready: log when it answers

    def start(self, env: dict[str, str]) -> None:
        # A new session: Ctrl-C in the terminal reaches only the supervisor, which then stops
        # the children in order (workers get a warm shutdown instead of a KeyboardInterrupt).
        self.process = subprocess.Popen(self.argv, env=env, start_new_session=True)
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def serving(self) -> bool:
        return self.alive() and (self.ready is None or self.ready())


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
            if child.process is None:  # the caller may have started one already (Redis)
                child.start(self.env)
        while not self.stopping:
            for child in self.children:
                if not self.stopping:
                    self._tend(child, time.monotonic())
            time.sleep(TICK)
        self.stop()
        return 0

    def _tend(self, child: Child, now: float) -> None:
        """Schedule, delay or make the restart of one child."""
        if child.alive():
            if child.announce and child.ready is not None and child.ready():
                child.announce = False
                self.log(f"{child.name} answers again, {now - child.started_at:.1f} s after its restart")
            return
        needed = child.needs
        if needed is not None and not needed.serving():
            if not child.waiting:
                child.waiting, child.next_start = True, 0.0
                self.log(f"{child.name} exited with status {self._code(child)} while {needed.name} is down; "
                         f"restarting it once {needed.name} answers")
            return
        if child.waiting:
            # Its exit was the dependency's fault, not its own: no back-off.
            child.waiting = False
            self.log(f"{needed.name} answers: starting {child.name}")
            child.start(self.env)
            return
        if child.next_start == 0.0:
            # Back off when a process keeps dying right after it starts.
            quick = now - child.started_at < 10
            child.restarts = child.restarts + 1 if quick else 0
            delay = min(30.0, 2.0 ** child.restarts) if quick else 1.0
            child.next_start = now + delay
            self.log(f"{child.name} exited with status {self._code(child)}; restarting in {delay:.0f} s")
        elif now >= child.next_start:
            child.next_start = 0.0
            child.announce = child.ready is not None
            child.start(self.env)

    @staticmethod
    def _code(child: Child) -> int | None:
        return child.process.returncode if child.process else None

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM every child (workers finish or re-queue their job), wait, then SIGKILL; the
        children others need (Redis) after the rest."""
        self.log("Stopping Loopdeck…")
        needed = [c for c in self.children if any(other.needs is c for other in self.children)]
        for phase in ([c for c in self.children if c not in needed], needed):
            self._stop(phase, grace)
        self.log("Stopped.")

    def _stop(self, children: list[Child], grace: float) -> None:
        for child in reversed(children):
            if child.alive():
                try:
                    os.killpg(child.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for child in reversed(children):
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.log(f"{child.name} did not stop in time; killing it")
                kill_tree(child.process.pid)
                child.process.wait()


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
