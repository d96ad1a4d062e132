"""A burst of submissions against real worker processes: every task must reach FINISH, each
output be rendered exactly once (one claim, one file, the right frame count) and each task send
one FINISH event. tests/hardening/test_burst.py runs 200 in CI; the long variant runs here, on a
scratch database, media folder and Redis of its own, and prints throughput and latency:

    python -m tests.hardening.burst --tasks 1000 --workers 2

`--database-url postgres://…` runs it on PostgreSQL instead (it adds rows to that database:
point it at a scratch one).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# The clip every task renders: 64x48, 0.5 s at 20 fps; the template samples it at 10 fps.
CLIP = {"width": 64, "height": 48, "seconds": 0.5, "fps": 20}
OUTPUT_FPS = 10
FRAMES = 5


def burst_template():  # a model; imported late: Django may not be set up yet
    from media_jobs.models import AnimatedImageTemplate

    return AnimatedImageTemplate.objects.create(name="burst", format="gif", fps=OUTPUT_FPS)


def submit(video, template, count: int) -> tuple[list, float]:
    """Submit `count` one-output tasks as fast as one client can; returns them and the seconds it took."""
    from media_jobs.commands import tasks as task_commands

    started = time.monotonic()
    tasks = [task_commands.submit_task(video, [task_commands.StepRequest(template)]) for _ in range(count)]
    return tasks, time.monotonic() - started


def unfinished(pks: list[int]) -> int:
    from media_jobs.models import Task

    return Task.objects.filter(pk__in=pks).exclude(status=Task.Status.FINISH).count()


@dataclass
class Figures:
    tasks: int
    submit_seconds: float
    span_seconds: float  # first submission to last FINISH
    latency_p50: float  # submission to FINISH, per task
    latency_p95: float
    latency_max: float
    wait_p50: float  # submission to the render starting
    render_p50: float  # one render, claim to result

    @property
    def throughput(self) -> float:
        return self.tasks / self.span_seconds if self.span_seconds else 0.0

    def __str__(self) -> str:
        return (f"{self.tasks} tasks: submitted in {self.submit_seconds:.1f} s "
                f"({self.tasks / max(self.submit_seconds, 1e-9):.0f}/s), all FINISH {self.span_seconds:.1f} s after the "
                f"first submission = {self.throughput:.1f} tasks/s; latency submit→FINISH p50 {self.latency_p50:.2f} s, "
                f"p95 {self.latency_p95:.2f} s, max {self.latency_max:.2f} s; queue wait p50 {self.wait_p50:.2f} s; "
                f"render p50 {self.render_p50:.3f} s")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def figures(pks: list[int], submit_seconds: float) -> Figures:
    from media_jobs.models import AnimatedImage, Task

    rows = list(Task.objects.filter(pk__in=pks).values_list("created_at", "finished_at"))
    latency = [(done - created).total_seconds() for created, done in rows]
    images = list(AnimatedImage.objects.filter(task__in=pks).values_list("created_at", "begun_at", "finished_at"))
    wait = [(begun - created).total_seconds() for created, begun, _ in images]
    render = [(done - begun).total_seconds() for _, begun, done in images]
    span = (max(done for _, done in rows) - min(created for created, _ in rows)).total_seconds()
    return Figures(len(pks), submit_seconds, span, statistics.median(latency), _percentile(latency, 0.95),
                   max(latency), statistics.median(wait), statistics.median(render))


def check(tasks: list, media_root: Path) -> None:
    """Everything finished and nothing was done twice (raises AssertionError)."""
    from media_jobs.models import AnimatedImage
    from tests.hardening.conftest import assert_nothing_lost

    pks = [t.pk for t in tasks]
    assert_nothing_lost(tasks, media_root)
    claims = list(AnimatedImage.objects.filter(task__in=pks).values_list("attempts", flat=True))
    assert claims == [1] * len(pks), f"renders claimed more than once: {sum(c > 1 for c in claims)}"
    frames = set(AnimatedImage.objects.filter(task__in=pks).values_list("frames", flat=True))
    assert frames == {FRAMES}, f"frame counts {frames}, expected {FRAMES}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="default: a scratch SQLite database")
    parser.add_argument("--redis-url", help="default: a scratch redis-server on a Unix socket")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="ld-burst-"))
    os.environ.update(LOOPDECK_DATA_DIR=str(scratch), MEDIA_ROOT=str(scratch / "media"),
                      DATABASE_URL=args.database_url or f"sqlite:///{scratch / 'burst.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    redis_process = None
    if args.redis_url:
        os.environ["REDIS_URL"] = args.redis_url
    else:
        from console.process.redis_server import start_local_redis

        redis_process = start_local_redis(scratch / "redis.sock", scratch / "redis", scratch / "redis.log")
        os.environ["REDIS_URL"] = f"unix://{scratch / 'redis.sock'}?db=0"

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from tests.workers import BurstWorker

    from console.process.supervisor import kill_tree, reconciler_argv, worker_argv
    from media_jobs.jobs import queues
    from tests.clips import make_clip
    from tests.hardening.conftest import ready_video

    call_command("migrate", verbosity=0)
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    clip = make_clip(scratch / "tiny.mp4", **CLIP)
    connection = queues.get_queue(queues.ENCODE).connection

    def drain() -> bool:
        worker = BurstWorker([queues.get_queue(n) for n in queues.ALL], connection=connection)
        return worker.work(burst=True, logging_level="WARNING")

    video = ready_video(clip, drain, "burst")
    template = burst_template()
    logs = (scratch / "workers.log").open("wb")
    children = [subprocess.Popen(worker_argv(manage), env=os.environ, stdout=logs, stderr=subprocess.STDOUT,
                                 start_new_session=True) for _ in range(args.workers)]
    children.append(subprocess.Popen(reconciler_argv(manage), env=os.environ, stdout=logs,
                                     stderr=subprocess.STDOUT, start_new_session=True))
    try:
        print(f"{args.workers} workers, {args.tasks} tasks, scratch folder {scratch}")
        tasks, submit_seconds = submit(video, template, args.tasks)
        pks = [t.pk for t in tasks]
        deadline = time.monotonic() + max(120, args.tasks * 2)
        next_report = time.monotonic() + 5
        while (left := unfinished(pks)) and time.monotonic() < deadline:
            if time.monotonic() >= next_report:
                print(f"  {args.tasks - left} of {args.tasks} finished")
                next_report += 5
            time.sleep(0.25)
        if left:
            print(f"FAILED: {left} tasks not finished; see {scratch / 'workers.log'}")
            return 1
        print(figures(pks, submit_seconds))
        check(tasks, Path(settings.MEDIA_ROOT))
        print("OK: every task FINISH, each output rendered once and decoding to the right frame count, "
              "one FINISH event per task")
        return 0
    except AssertionError as exc:
        print(f"FAILED: {exc}")
        return 1
    finally:
        for child in children:
            kill_tree(child.pid)
            child.wait(timeout=30)
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
        if not args.keep:
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
