"""Running probe/render/snapshot in a child process, so a hostile file cannot take the caller down.

The child is forked (it touches nothing but the encode core), limits its own address space,
dies with its parent (PR_SET_PDEATHSIG), and reports progress and its outcome over a pipe.
Outcomes map to named errors: SIGTERM/SIGINT/SIGHUP (stopped from outside) -> WorkerLost, which
may be retried; another signal (segfault, abort, OOM kill) -> DecodeFailed; MemoryError
or the limit -> ResourceLimitExceeded; the timeout -> ProcessTimeout (the child is killed); an
EncodeError in the child is re-raised as is; anything else -> InternalError with its message.

Memory accounting: RLIMIT_AS counts reserved address space, not resident memory, and a forked
child starts with its parent's whole mapping (a Django or RQ process may reserve hundreds of MB).
So the limit is set to the child's address space at fork plus `memory_limit_mb`, and glibc is
told to keep at most two malloc arenas: each FFmpeg decoding thread would otherwise reserve a
64 MB arena it never fills.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import multiprocessing
import os
import resource
import signal
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .errors import EncodeError, ErrorCode
from .probe import probe
from .render import remove_quietly, render_to_temp, temp_path_for
from .results import MediaInfo, RenderResult
from .snapshot import snapshot_to_temp
from .spec import RenderSpec

_PR_SET_PDEATHSIG = 1
_M_ARENA_MAX = -8
_POLL_SECONDS = 0.2
_STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name or "libc.so.6", use_errno=True)
    except OSError:
        return None


def _address_space_bytes() -> int:
    """This process's current virtual memory size (VmSize), 0 if unknown."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _prepare_child(parent_pid: int, memory_limit_mb: int) -> None:
    """Tie the child's life to the parent's and cap its memory."""
    # Never collect what the parent left in reference cycles: freeing a decoder the parent had
    # not freed yet joins FFmpeg threads that do not exist in this process, which hangs forever.
    # The collector was off across the fork (see `_collector_off`); it runs again for the child's own.
    gc.freeze()
    gc.enable()
    libc = _libc()
    if libc is not None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        libc.mallopt(_M_ARENA_MAX, 2)
    if os.getppid() != parent_pid:
        # The parent died between fork and prctl: nobody is waiting for this work.
        os._exit(1)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
        signal.signal(signum, signal.SIG_DFL)
    if memory_limit_mb and memory_limit_mb > 0:
        limit = _address_space_bytes() + memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _child_main(conn, parent_pid: int, func: Callable[..., Any], args: tuple, kwargs: dict,
                memory_limit_mb: int, wants_progress: bool) -> None:
    try:
        _prepare_child(parent_pid, memory_limit_mb)
        if wants_progress:
            kwargs = dict(kwargs, progress=lambda fraction: conn.send(("progress", float(fraction))))
        value = func(*args, **kwargs)
        message: tuple = ("ok", value)
    except EncodeError as exc:
        message = ("error", str(exc.code), exc.message, exc.field)
    except MemoryError:
        message = ("error", str(ErrorCode.RESOURCE_LIMIT_EXCEEDED),
                   "the work needed more memory than its limit allows", None)
    except BaseException as exc:  # reported to the parent as InternalError, with its message
        message = ("exception", f"{type(exc).__name__}: {exc}")
    try:
        conn.send(message)
    except (OSError, ValueError, MemoryError):
        pass
    finally:
        conn.close()
        # Skip interpreter teardown: the parent's atexit handlers and threads are not ours.
        os._exit(0)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def run_isolated(func: Callable[..., Any], *args: Any, timeout: float, memory_limit_mb: int,
                 progress: Callable[[float], None] | None = None,
                 cleanup: Callable[[], None] | None = None, **kwargs: Any) -> Any:
    """Call `func(*args, **kwargs)` in a forked child and return its value, or raise EncodeError.

    When `progress` is given, the child's `func` receives a `progress` callback whose calls are
    relayed to `progress` here. `cleanup` runs in the parent whenever the child did not succeed
    (e.g. to remove a temporary file a killed child left behind).
    """
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=_child_main,
        args=(sender, os.getpid(), func, args, kwargs, memory_limit_mb, progress is not None),
        name="encode-isolated",
    )
    succeeded = False
    try:
        with _collector_off():
            process.start()
        sender.close()
        outcome = _wait(process, receiver, timeout, progress)
        value = _outcome_value(outcome, process)
        succeeded = True
        return value
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        receiver.close()
        if not succeeded and cleanup is not None:
            cleanup()


@contextmanager
def _collector_off() -> Iterator[None]:
    """Keep the garbage collector off while forking. The child runs Python code before its
    target does (random's at-fork reseed), and a collection there would free the parent's
    leftover decoders in the child, joining FFmpeg threads that exist only in the parent: the
    child hangs until its timeout."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _wait(process, receiver, timeout: float, progress: Callable[[float], None] | None) -> tuple | None:
    """Relay progress until the child sends its outcome or goes away; enforce the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            process.kill()
            process.join(5)
            raise EncodeError(ErrorCode.PROCESS_TIMEOUT, f"the work did not finish within {timeout:g} s")
        if receiver.poll(min(remaining, _POLL_SECONDS)):
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                return None
            if message[0] == "progress":
                if progress is not None:
                    progress(message[1])
                continue
            return message
        if not process.is_alive() and not receiver.poll(0):
            return None


def _outcome_value(outcome: tuple | None, process) -> Any:
    if outcome is None:
        process.join(5)
        code = process.exitcode
        if code is not None and -code in _STOP_SIGNALS:
            # Someone stopped the work (a service manager's stop, a Ctrl-C): not the file's fault,
            # so the job may run again.
            raise EncodeError(ErrorCode.WORKER_LOST,
                              f"the work was stopped by {_signal_name(-code)} before it finished")
        if code is not None and code < 0:
            signum = -code
            raise EncodeError(ErrorCode.DECODE_FAILED,
                              f"the decoder crashed on this file (signal {_signal_name(signum)})")
        raise EncodeError(ErrorCode.INTERNAL_ERROR,
                          f"the worker process ended without a result (exit status {code})")
    kind = outcome[0]
    if kind == "ok":
        return outcome[1]
    if kind == "error":
        _, code, message, field = outcome
        raise EncodeError(code, message, field=field)
    raise EncodeError(ErrorCode.INTERNAL_ERROR, outcome[1])


def probe_isolated(path: str | os.PathLike, timeout: float = 60, memory_limit_mb: int = 1024) -> MediaInfo:
    """probe() in a child process."""
    return run_isolated(probe, path, timeout=timeout, memory_limit_mb=memory_limit_mb)


def render_isolated(path: str | os.PathLike, spec: RenderSpec, out: str | os.PathLike,
                    progress: Callable[[float], None] | None = None, timeout: float = 1800,
                    memory_limit_mb: int = 2048) -> RenderResult:
    """render() in a child process; a partial file never reaches `out`, even if the child dies."""
    spec.validate()
    tmp = temp_path_for(out)
    return run_isolated(_render_child, path, spec, out, tmp, timeout=timeout, memory_limit_mb=memory_limit_mb,
                        progress=progress, cleanup=lambda: remove_quietly(tmp))


def snapshot_isolated(path: str | os.PathLike, out: str | os.PathLike, at: float | None = None,
                      max_size: int = 640, timeout: float = 60, memory_limit_mb: int = 1024) -> tuple[int, int]:
    """snapshot() in a child process."""
    tmp = temp_path_for(out)
    return run_isolated(_snapshot_child, path, out, tmp, at, max_size, timeout=timeout,
                        memory_limit_mb=memory_limit_mb, cleanup=lambda: remove_quietly(tmp))


def _render_child(path, spec: RenderSpec, out, tmp: str, progress=None) -> RenderResult:
    try:
        return render_to_temp(path, spec, out, tmp, progress)
    except BaseException:
        remove_quietly(tmp)
        raise


def _snapshot_child(path, out, tmp: str, at: float | None, max_size: int) -> tuple[int, int]:
    try:
        return snapshot_to_temp(path, out, tmp, at, max_size)
    except BaseException:
        remove_quietly(tmp)
        raise
