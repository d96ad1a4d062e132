"""The anchor tools (ffmpeg from imageio-ffmpeg, gifski from npm) and the timed process runner."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .clips import bench_dir

GIFSKI_NPM_VERSION = "1.7.1"
GNU_TIME = "/usr/bin/time"
RUN_DIR = re.compile(r"\d{8}-\d{6}-\d+")


@dataclass
class Timed:
    """One measured process: wall and cpu seconds, peak RSS of the largest process, exit code."""

    wall: float
    cpu: float
    rss_mb: float
    returncode: int
    stderr: str
    foreign_cpu: float = 0.0  # cpu seconds other processes used during the run


def ffmpeg_path() -> str:
    """The newest ffmpeg available from the registries: the static build in imageio-ffmpeg."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def gifski_path() -> str:
    """The gifski binary from the npm package, fetched with `npm pack` into the cache once."""
    override = os.environ.get("LOOPDECK_GIFSKI")
    if override:
        return override
    root = bench_dir() / "tools" / f"gifski-{GIFSKI_NPM_VERSION}"
    binary = root / "package" / "bin" / "debian" / "gifski"
    if binary.is_file():
        return str(binary)
    root.mkdir(parents=True, exist_ok=True)
    print(f"fetching gifski {GIFSKI_NPM_VERSION} with npm pack ...", file=sys.stderr, flush=True)
    subprocess.run(["npm", "pack", f"gifski@{GIFSKI_NPM_VERSION}", "--pack-destination", str(root)],
                   check=True, capture_output=True, cwd=root)
    tgz = next(root.glob("gifski-*.tgz"))
    with tarfile.open(tgz) as tar:
        tar.extractall(root, filter="data")
    binary.chmod(0o755)
    return str(binary)


def tool_version(argv: list[str]) -> str:
    """The first line a tool prints for its version flag (or why it could not run)."""
    try:
        out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=30)
    except OSError as exc:
        return f"unavailable ({exc})"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else f"exit {out.returncode}"


def require_gnu_time() -> None:
    """Fail early, with the fix, when GNU time is missing."""
    if not Path(GNU_TIME).is_file():
        raise SystemExit(f"{GNU_TIME} not found: apt-get install -y time")


def busy_cpu_seconds() -> float:
    """CPU seconds spent by everything on the machine since boot (all cores, idle excluded)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    # guest time is already counted in user/nice
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_idle(max_wait: float, busy_max: float = 0.15, probe: float = 1.0) -> float:
    """Wait (up to max_wait s) until other work uses under busy_max of one core; return the last share.

    The figures are only comparable when nothing else runs: on 2 cores one busy test suite
    moves a wall time by 50 % or more.
    """
    deadline = time.monotonic() + max_wait
    announced = False
    while True:
        before = busy_cpu_seconds()
        time.sleep(probe)
        share = (busy_cpu_seconds() - before) / probe
        if share <= busy_max or time.monotonic() >= deadline:
            return share
        if not announced:
            print(f" [waiting for an idle machine: {share:.0%} of a core busy]", end="", file=sys.stderr,
                  flush=True)
            announced = True


def run_timed(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
              timeout: float = 900) -> Timed:
    """Run argv as its own process under GNU time and return what it measured.

    GNU time forks the command from a small process and reads its rusage, so %M is the command's
    own peak (os.wait4 on a child of this big Python process would inherit our high-water mark).
    For a shell pipeline %M is the peak of its largest process. The command runs in its own
    process group, killed whole if this run is interrupted.
    """
    require_gnu_time()
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = tf.name
    busy_before = busy_cpu_seconds()
    proc = subprocess.Popen([GNU_TIME, "-f", "%e %U %S %M", "-o", time_file, *argv], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=timeout)
        fields = Path(time_file).read_text().strip().splitlines()[-1].split()
    except BaseException:
        # Timeout, Ctrl-C or SIGTERM: take the whole tree (ffmpeg, gifski, workers) down with us.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        os.unlink(time_file)
    busy = busy_cpu_seconds() - busy_before
    wall, user, system, rss_kb = float(fields[0]), float(fields[1]), float(fields[2]), int(fields[3])
    # What other processes used meanwhile (our own driver sleeps in communicate()).
    foreign = max(0.0, busy - (user + system))
    return Timed(wall, user + system, rss_kb / 1024.0, proc.returncode, stderr[-2000:], foreign)


def warm(path: Path) -> None:
    """Read a file once so every method starts with it in the page cache."""
    with open(path, "rb") as f:
        while f.read(1 << 22):
            pass


def fresh_dir(path: Path) -> Path:
    """An empty directory at path (removing what was there)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def exclusive_lock(path: Path) -> IO[str]:
    """Hold a lock so two benchmark runs never compete for the CPU; waits for the other one.

    The lock is released when the returned file is closed or the process exits.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        print(f"another benchmark run holds {path} (pid {holder}); waiting for it to finish ...",
              file=sys.stderr, flush=True)
        fcntl.flock(handle, fcntl.LOCK_EX)
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def new_run_dir(root: Path, stamp: str, keep: int = 2) -> Path:
    """A fresh output directory for this run; outputs of all but the newest `keep` runs are removed."""
    root.mkdir(parents=True, exist_ok=True)
    old = sorted((p for p in root.iterdir() if p.is_dir() and RUN_DIR.fullmatch(p.name)),
                 key=lambda p: p.stat().st_mtime)
    for stale in old[:max(0, len(old) - keep)]:
        shutil.rmtree(stale, ignore_errors=True)
    return fresh_dir(root / f"{stamp}-{os.getpid()}")
