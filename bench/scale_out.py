"""Scale-out figures: `python -m bench.scale_out [--size-mb 500] [--tasks 40]`

1. Upload throughput of one large video through gunicorn into the local disk backend, then into
   an S3 bucket (moto's S3 server on 127.0.0.1), with the web process's peak RSS (VmHWM of the
   gunicorn worker) for each.
2. Drain rate of `--tasks` queued one-output tasks with one worker machine, then with two: the
   time from the first render's start to the last render's end.

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/loopdeck_bench,
dropped and re-created) and an empty Redis database (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/13, flushed after). The big file is written to the temp folder and deleted.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import redis

from tests.clips import make_clip
from tests.s3server import S3Server, moto_server
from tests.topology import Topology, process_tree, recreate_database, wait_until

MB = 1024 * 1024


def big_video(folder: Path, size_mb: int) -> Path:
    """A real, probe-able clip followed by filler up to `size_mb` (random bytes, so nothing on the
    way can shortcut zeros)."""
    path = make_clip(folder / "big.mp4", width=320, height=240, seconds=2, fps=10)
    block = os.urandom(MB)
    with path.open("ab") as handle:
        while handle.tell() < size_mb * MB:
            handle.write(block)
    return path


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def web_workers(top: Topology) -> list[int]:
    assert top.web is not None
    return process_tree(top.web.pid)[1:]  # gunicorn's worker processes, not the arbiter


def measure_upload(root: Path, database_url: str, redis_url: str, storage_env: dict[str, str], video: Path,
                   label: str) -> dict[str, float]:
    recreate_database(database_url)
    top = Topology(root / label, database_url, redis_url, storage_env, MAX_UPLOAD_SIZE_MB="4096")
    try:
        top.start_web(threads=2)
        top.api("GET", "/videos")  # gunicorn loads Django on the first request
        before = max(peak_rss_mb(pid) for pid in web_workers(top))
        start = time.perf_counter()
        top.upload(video, label)
        seconds = time.perf_counter() - start
        peak = max(peak_rss_mb(pid) for pid in web_workers(top))
        return {"seconds": seconds, "mb_s": video.stat().st_size / MB / seconds, "rss_before": before, "rss_peak": peak}
    finally:
        top.stop()


def measure_drain(root: Path, database_url: str, redis_url: str, storage_env: dict[str, str], clip: Path,
                  tasks: int, workers: int) -> float:
    import psycopg

    recreate_database(database_url)
    top = Topology(root / f"drain-{workers}", database_url, redis_url, storage_env)
    try:
        top.start_web()
        preparer, _ = top.start_worker("preparer")
        video = top.upload(clip, "drain")
        wait_until(lambda: top.api("GET", f"/videos/{video['id']}")["status"] == "READY", 60, "the video")
        preparer.stop()
        template = top.api("POST", "/templates", {"name": "drain", "format": "gif", "fps": 15, "width": 320})
        for _ in range(tasks):  # queued while no worker runs: the drain starts with a full queue
            top.api("POST", "/tasks", {"video_id": video["id"],
                                       "animated_graphic_task_set": [{"definition": template["definition"]}]})
        for n in range(workers):
            top.start_worker(f"worker-{n + 1}")

        def done() -> tuple | None:
            with psycopg.connect(database_url) as conn:
                row = conn.execute("SELECT count(*) FILTER (WHERE status NOT IN ('SUCCESS', 'FAIL')), "
                                   "count(*) FILTER (WHERE status = 'FAIL'), "
                                   "extract(epoch FROM max(finished_at) - min(begun_at)) "
                                   "FROM media_jobs_animatedimage").fetchone()
            return row if row[0] == 0 else None

        _, failed, seconds = wait_until(done, 600, "the queue to drain", every=0.5)
        if failed:
            raise SystemExit(f"{failed} renders failed")
        return float(seconds)
    finally:
        top.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--only", choices=("upload", "drain"), help="measure one of the two")
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/loopdeck_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    client = redis.Redis.from_url(redis_url)
    if client.dbsize():
        raise SystemExit(f"{redis_url} holds data; point BENCH_REDIS_URL at an empty database")

    with tempfile.TemporaryDirectory(prefix="loopdeck-scale-out-") as tmp, moto_server() as s3:
        root = Path(tmp)
        try:
            if args.only != "drain":
                upload_figures(root, database_url, redis_url, s3, client, args.size_mb)
            if args.only != "upload":
                drain_figures(root, database_url, redis_url, s3, client, args.tasks)
        finally:
            client.flushdb()


def upload_figures(root: Path, database_url: str, redis_url: str, s3: S3Server, client: redis.Redis,
                   size_mb: int) -> None:
    video = big_video(root, size_mb)
    size = video.stat().st_size / MB
    try:
        local = measure_upload(root, database_url, redis_url, {"STORAGE_BACKEND": "local"}, video, "local")
        client.flushdb()
        bucket = s3.create_bucket(f"bench-{uuid.uuid4().hex[:8]}")
        remote = measure_upload(root, database_url, redis_url, s3.env(bucket), video, "s3")
        client.flushdb()
    finally:
        video.unlink()
    print(f"upload of {size:.0f} MB through gunicorn (API, streamed with Content-Length):")
    for name, figures in (("local disk", local), ("S3 (moto)", remote)):
        print(f"  {name:10}  {figures['seconds']:6.1f} s  {figures['mb_s']:6.1f} MB/s  "
              f"web worker RSS {figures['rss_before']:.0f} MB before, peak {figures['rss_peak']:.0f} MB")


def drain_figures(root: Path, database_url: str, redis_url: str, s3: S3Server, client: redis.Redis,
                  tasks: int) -> None:
    clip = make_clip(root / "drain.mp4", width=320, height=240, seconds=3, fps=30)
    bucket = s3.create_bucket(f"drain-{uuid.uuid4().hex[:8]}")
    one = measure_drain(root, database_url, redis_url, s3.env(bucket), clip, tasks, 1)
    client.flushdb()
    two = measure_drain(root, database_url, redis_url, s3.env(bucket), clip, tasks, 2)
    client.flushdb()
    print(f"drain of {tasks} queued renders (S3, first render start to last render end):")
    print(f"  1 worker   {one:6.1f} s  {tasks / one:5.2f} renders/s")
    print(f"  2 workers  {two:6.1f} s  {tasks / two:5.2f} renders/s  ({one / two:.2f}x)")
    print(f"  cores: {os.cpu_count()}, load average now: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
