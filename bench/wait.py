"""The operator's wait: `python -m bench.wait [--runs 3]`

Case A (1080p H.264, 3 s from 5 s -> 640x360 GIF at 15 fps) two ways in one run:

1. the CLI render (`python -m media_jobs.encode render`, the encode core alone), median of runs;
2. through the product: gunicorn and one idle RQ worker on this machine (SQLite, Redis database
   11, flushed after), the video uploaded through the JSON API and READY; the clock runs from
   the POST /api/v1/tasks to the moment the finished image's bytes are downloaded (what the
   console shows), polling every 50 ms.

Prints both, and the ratio (issue goal: at most 1.5x the CLI render time).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import requests

from bench.clips import clip_path
from bench.run import CASES
from tests.topology import MANAGE, Topology, wait_until

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")


def cli_seconds(src: Path, out: Path) -> float:
    case = CASES["A"]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "media_jobs.encode", "render", str(src), str(out), "--width",
                    str(case.width), "--height", str(case.height), "--fps", str(case.fps), "--start", case.start,
                    "--duration", case.duration], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    case = CASES["A"]
    src = clip_path(case.clip)
    root = Path(tempfile.mkdtemp(prefix="loopdeck-bench-wait-"))
    cli = [cli_seconds(src, root / f"cli-{i}.gif") for i in range(args.runs)]

    redis.Redis.from_url(REDIS_URL).flushdb()
    topology = Topology(root, f"sqlite:///{root}/loopdeck.sqlite3", REDIS_URL, {})
    try:
        web = topology.start_web()
        # The worker shares the web machine's disk here (one machine, local storage).
        web.start([sys.executable, MANAGE, "rqworker", "light", "encode", "--with-scheduler"], "worker")
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {topology.api_key}"
        base = topology.base_url + "/api/v1"
        template = api.post(f"{base}/templates", json={
            "name": "case A", "format": "gif", "width": case.width, "height": case.height, "fps": case.fps,
            "start": float(case.start), "duration": float(case.duration), "resolution_adaptive": False}).json()
        with src.open("rb") as handle:
            video = api.post(f"{base}/videos", files={"file": (src.name, handle, "video/mp4")},
                             data={"title": "case A"}).json()
        wait_until(lambda: api.get(f"{base}/videos/{video['id']}").json()["status"] == "READY", 300, "the upload")
        time.sleep(5)  # the cover and the playable copy are done; the worker is idle
        waits = []
        for _ in range(args.runs):
            started = time.perf_counter()
            task = api.post(f"{base}/tasks", json={"video_id": video["id"], "animated_graphic_task_set": [
                {"definition": template["definition"]}]}).json()
            while True:
                state = api.get(f"{base}/tasks/{task['task_id']}").json()
                if state["status"] == "FINISH":
                    break
                time.sleep(0.05)
            output = state["animated_graphic_task_set"][0]
            assert output["status"] == "SUCCESS", output
            data = api.get(output["url"]).content
            waits.append(time.perf_counter() - started)
            assert len(data) == output["size"]
            time.sleep(2)
    finally:
        topology.stop()
        redis.Redis.from_url(REDIS_URL).flushdb()
    cli_median, wait_median = statistics.median(cli), statistics.median(waits)
    print(f"case A, {args.runs} runs each (medians), 2 cores")
    print(f"  CLI render (encode core alone)          {cli_median:6.2f} s   runs: {', '.join(f'{s:.2f}' for s in cli)}")
    print(f"  submit -> image downloaded (API+worker) {wait_median:6.2f} s   runs: {', '.join(f'{s:.2f}' for s in waits)}")
    print(f"  ratio {wait_median / cli_median:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
