"""The run command's own Redis killed: `manage.py serve` (the real one, with its web server,
workers and reconciler) restarts it like its other children, the workers wait for it instead
of crash-looping, and work submitted afterwards is done."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.core.files import File

from console.process.redis_server import find_redis_server, is_reachable
from console.process.supervisor import kill_tree
from media_jobs.commands import tasks as task_commands
from media_jobs.commands import videos as video_commands
from media_jobs.models import AnimatedImageTemplate, Task, Video
from tests.e2e.conftest import MANAGE, database_url
from tests.hardening.conftest import FAST, assert_nothing_lost, poll

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The bound the README states: the supervisor looks every 0.5 s and restarts after 1 s (2 s when
# Redis dies within 10 s of starting), and Redis with an empty append-only file starts at once.
REDIS_BACK_WITHIN = 5.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Run:
    def __init__(self, process: subprocess.Popen, data_dir: Path, log: Path):
        self.process, self.data_dir, self.log = process, data_dir, log
        self.url = f"unix://{data_dir / 'redis.sock'}?db=0"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def redis_pid(self) -> int:
        return int(redis.Redis.from_url(self.url, socket_timeout=1).info("server")["process_id"])


@pytest.fixture
def run_command(settings, media_root: Path, tmp_path: Path) -> Iterator[Run]:
    """`manage.py serve` as `python3 run.py` starts it, without REDIS_URL: it starts its own Redis
    (a Unix socket under a short /tmp path). The test process's queues use that Redis too."""
    if find_redis_server() is None:
        pytest.skip("no redis-server binary for the run command to start")
    data_dir = Path(tempfile.mkdtemp(prefix="ld-run-"))
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(LOOPDECK_DATA_DIR=str(data_dir), DATABASE_URL=database_url(), MEDIA_ROOT=str(media_root),
               SECRET_KEY=settings.SECRET_KEY, LOOPDECK_ADMIN_PASSWORD="correct horse battery",
               STATIC_ROOT=str(tmp_path / "static"), PYTHONUNBUFFERED="1", **FAST)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, MANAGE, "serve", "--port", str(_free_port()), "--workers", "1"],
                                   env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    run = Run(process, data_dir, log)
    try:
        poll(lambda: is_reachable(run.url, timeout=0.2) or process.poll() is not None, 60, "the run command's Redis")
        assert process.poll() is None, run.output()
        settings.REDIS_URL = run.url
        settings.RQ_QUEUES = {name: {**config, "URL": run.url} for name, config in settings.RQ_QUEUES.items()}
        yield run
    finally:
        kill_tree(process.pid)
        process.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def test_the_run_command_restarts_its_redis_and_work_submitted_afterwards_is_done(run_command, tiny_clip, media_root):
    run = run_command
    with tiny_clip.open("rb") as handle:
        video = video_commands.create_video(File(handle, name=tiny_clip.name), "before the kill")
    poll(lambda: Video.objects.get(pk=video.pk).status == Video.Status.READY, 60, "the upload to be READY")
    first_pid = run.redis_pid()

    os.kill(first_pid, signal.SIGKILL)
    killed = time.monotonic()
    back = poll(lambda: is_reachable(run.url, timeout=0.2), REDIS_BACK_WITHIN,
                f"a new Redis within {REDIS_BACK_WITHIN} s\n{run.output()[-3000:]}")
    assert run.redis_pid() != first_pid

    template = AnimatedImageTemplate.objects.create(name="after the kill", format="webp", width=64, fps=5, duration=1)
    task = task_commands.submit_task(Video.objects.get(pk=video.pk), [task_commands.StepRequest(template)])
    submitted = time.monotonic()
    poll(lambda: Task.objects.get(pk=task.pk).status == Task.Status.FINISH, 60,
         f"the render submitted after the restart\n{run.output()[-3000:]}")
    done = time.monotonic()
    print(f"\nRedis SIGKILLed: a new one answered {back:.2f} s later; a render submitted then finished in "
          f"{done - submitted:.1f} s ({done - killed:.1f} s after the kill)")
    assert_nothing_lost([task], media_root)

    output = run.output()
    assert re.search(r"redis exited with status -9; restarting in \d+ s", output), output[-3000:]
    assert "redis answers again" in output
    # The workers waited for Redis rather than backing off into a crash loop.
    assert "restarting in 30 s" not in output and "restarting in 16 s" not in output, output[-3000:]

