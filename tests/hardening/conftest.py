"""Fixtures for the fault tests: real worker and reconciler processes (as the run command starts
them, with short heartbeat and reconcile periods), a private Redis a test may stop and restart,
tiny clips, and one check of what a user must never see after a fault."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from django.core.files import File
from PIL import Image, ImageSequence

from console.process.redis_server import find_redis_server, is_reachable
from console.process.supervisor import kill_tree as supervisor_kill_tree
from console.process.supervisor import reconciler_argv, worker_argv
from media_jobs.commands import videos as video_commands
from media_jobs.models import AnimatedImage, Event, Task, Video
from tests.clips import make_clip
from tests.e2e.conftest import MANAGE, database_url, kill_tree, wait_for

__all__ = ["kill_tree", "wait_for"]

# The fault tests' timing: a render heartbeats every 0.5 s, counts as lost after 3 s without
# one, and the reconciler looks every 0.5 s (production: 5 s, 30 s, 10 s).
FAST = {"HEARTBEAT_INTERVAL": "0.5", "HEARTBEAT_STALE_AFTER": "3", "RECONCILE_INTERVAL": "0.5"}


@pytest.fixture
def fault_env(redis_url: str, media_root: Path, settings) -> dict[str, str]:
    """The environment of the processes a test starts; the test process uses the same timing."""
    for name, value in FAST.items():
        setattr(settings, name, float(value))
    env = dict(os.environ)
    env.update(REDIS_URL=redis_url, DATABASE_URL=database_url(), MEDIA_ROOT=str(media_root),
               LOOPDECK_DATA_DIR=str(settings.DATA_DIR), PYTHONUNBUFFERED="1", **FAST)
    return env


@dataclass
class Processes:
    """Worker and reconciler processes of one test, each logging to its own file."""

    env: dict[str, str]
    log_dir: Path
    started: list[subprocess.Popen] = field(default_factory=list)

    def start(self, kind: str, **env: str) -> subprocess.Popen:
        argv = worker_argv(MANAGE) if kind == "worker" else reconciler_argv(MANAGE)
        log = (self.log_dir / f"{kind}-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(argv, env={**self.env, **env}, start_new_session=True,
                                   stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.started.append(process)
        return process

    def logs(self, lines: int = 30) -> str:
        """The end of every log, for a failure message."""
        out = []
        for path in sorted(self.log_dir.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(out)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None or Path(f"/proc/{process.pid}").exists():
                kill_tree(process)


@pytest.fixture
def processes(fault_env: dict[str, str], tmp_path: Path) -> Iterator[Processes]:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    running = Processes(fault_env, log_dir)
    yield running
    running.stop_all()


# The run command's supervisor without the web server: it restarts any worker that dies.
_SUPERVISE = """
import os, sys
from console.process.supervisor import Child, Supervisor, reconciler_argv, worker_argv
manage, workers = sys.argv[1], int(sys.argv[2])
children = [Child(f"worker-{n + 1}", worker_argv(manage)) for n in range(workers)]
children.append(Child("reconciler", reconciler_argv(manage)))
sys.exit(Supervisor(children, dict(os.environ)).run())
"""


@pytest.fixture
def supervised(processes: Processes) -> Iterator[Callable[..., Processes]]:
    """Start `workers` render workers and the reconciler under the real supervisor."""
    supervisors: list[subprocess.Popen] = []

    def start(workers: int = 2, **env: str) -> Processes:
        log = (processes.log_dir / "supervisor.log").open("ab")
        supervisors.append(subprocess.Popen(
            [sys.executable, "-c", _SUPERVISE, MANAGE, str(workers)], env={**processes.env, **env},
            start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
        ))
        log.close()
        return processes

    yield start
    for supervisor in supervisors:
        supervisor_kill_tree(supervisor.pid)
        supervisor.wait(timeout=30)


class PrivateRedis:
    """A redis-server of the test's own on a Unix socket, without persistence, so a restart
    loses every queued job, as a Redis restarted without AOF or RDB does."""

    def __init__(self, directory: Path):
        self.socket = directory / "redis.sock"
        self.directory = directory
        self.url = f"unix://{self.socket}?db=0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = find_redis_server()
        if binary is None:
            pytest.skip("no redis-server binary to start a private Redis with")
        self.process = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_for(lambda: is_reachable(self.url, timeout=0.2), 10, "the private Redis to answer")

    def crash(self) -> None:
        """Stop it the hard way: every key is gone, clients see their connections drop."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)
        self.socket.unlink(missing_ok=True)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


@pytest.fixture
def private_redis(settings) -> Iterator[PrivateRedis]:
    """A private Redis that the test process's queues use too (Unix socket paths must be short,
    so it lives in its own folder under /tmp rather than under pytest's tmp_path)."""
    directory = Path(tempfile.mkdtemp(prefix="ld-redis-"))
    server = PrivateRedis(directory)
    server.start()
    settings.REDIS_URL = server.url
    settings.RQ_QUEUES = {name: {**config, "URL": server.url} for name, config in settings.RQ_QUEUES.items()}
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.kill()
        server.process.wait(timeout=10)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64x48, 0.5 s at 20 fps: a render of it takes a few hundredths of a second."""
    return make_clip(tmp_path_factory.mktemp("fault-clips") / "tiny.mp4", width=64, height=48,
                     seconds=0.5, fps=20)


@pytest.fixture(scope="session")
def slow_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """160x120, 24 s at 30 fps: a GIF of every frame with a palette per frame takes about two
    seconds, long enough to signal a worker in the middle of it."""
    return make_clip(tmp_path_factory.mktemp("fault-clips") / "slow.mp4", width=160, height=120,
                     seconds=24, fps=30)


def ready_video(path: Path, run_worker: Callable[[], bool], title: str = "fault") -> Video:
    """A library video, prepared in-process (so only renders reach the worker processes)."""
    with path.open("rb") as handle:
        video = video_commands.create_video(File(handle, name=path.name), title)
    run_worker()
    video.refresh_from_db()
    assert video.status == Video.Status.READY, video.error_message
    return video


def decoded_frames(path: Path) -> int:
    """Decode every frame (Pillow reads animated WebP, FFmpeg does not): a truncated or corrupt
    file raises or comes up short."""
    with Image.open(path) as image:
        count = 0
        for frame in ImageSequence.Iterator(image):
            frame.load()
            count += 1
        return count


def output_files(media_root: Path) -> list[Path]:
    """Everything under the animated-image folders, temporary files included."""
    return sorted(p for p in media_root.glob("videos/*/animated/*") if p.is_file())


def assert_nothing_lost(tasks: list[Task], media_root: Path, expect_success: bool = True,
                        retried: set[int] = frozenset()) -> None:
    """What a user must see after any fault: every task FINISH; each output on disk exactly once
    and only when SUCCESS, decoding to the recorded frame count; one FINISH event per task and
    one OUTPUT event per output (in the pull queue too; two for a task in `retried`, whose one
    output failed and was retried); event numbers per video without gaps."""
    pks = [t.pk for t in tasks]
    statuses = Counter(Task.objects.filter(pk__in=pks).values_list("status", flat=True))
    assert statuses == {Task.Status.FINISH: len(pks)}, f"task states: {dict(statuses)}"
    images = list(AnimatedImage.objects.filter(task__in=pks))
    if expect_success:
        failed = [(i.pk, i.error_code, i.error_message) for i in images if i.status != AnimatedImage.Status.SUCCESS]
        assert not failed, f"outputs that did not succeed: {failed[:5]}"
    expected = {(media_root / i.file.name).resolve() for i in images if i.status == AnimatedImage.Status.SUCCESS}
    ours = {i.video.public_id for i in images}
    on_disk = {p.resolve() for p in output_files(media_root) if p.parent.parent.name in map(str, ours)}
    assert on_disk == expected, (f"files that should not be visible: {sorted(map(str, on_disk - expected))[:5]}; "
                                 f"missing: {sorted(map(str, expected - on_disk))[:5]}")
    for image in images:
        if image.status == AnimatedImage.Status.SUCCESS:
            assert decoded_frames(media_root / image.file.name) == image.frames, image.file.name

    finish = Counter(Event.objects.filter(task__in=pks, kind=Event.Kind.TASK_FINISH).values_list("task", flat=True))
    expected_finish = {pk: 2 if pk in retried else 1 for pk in pks}
    assert dict(finish) == expected_finish, "tasks without exactly one FINISH event (per run)"
    pulled = Event.objects.filter(task__in=pks, kind=Event.Kind.TASK_FINISH, in_pull_queue=True).count()
    assert pulled == sum(expected_finish.values()), "FINISH events missing from the pull queue"
    outputs = Counter(Event.objects.filter(animated_image__in=images, kind=Event.Kind.OUTPUT)
                      .values_list("animated_image", flat=True))
    if expect_success:
        expected_outputs = {i.pk: 2 if i.task_id in retried else 1 for i in images}
        assert dict(outputs) == expected_outputs, "outputs without exactly one OUTPUT event (per run)"
    for video_id in {t.video_id for t in tasks}:
        numbers = sorted(Event.objects.filter(video_id=video_id).values_list("sequence", flat=True))
        assert numbers == list(range(1, len(numbers) + 1)), f"event numbers of video {video_id} have gaps"


def poll(condition: Callable[[], bool], timeout: float, what: str, processes: Processes | None = None) -> float:
    """wait_for, with the processes' logs in the failure message."""
    try:
        return wait_for(condition, timeout, what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{processes.logs() if processes else ''}") from None


def open_count(task_pks: list[int]) -> int:
    return Task.objects.filter(pk__in=task_pks).exclude(status=Task.Status.FINISH).count()
