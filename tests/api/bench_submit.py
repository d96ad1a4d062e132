"""Latency of task submission through the API: the median of N POST /api/v1/tasks.

    python -m tests.api.bench_submit [N, default 200]

Sets up a throwaway database (pytest-django's test database machinery is not used: this is a
plain script), a real Redis from TEST_REDIS_URL (an empty database is required), one probed video
and a template, then times N submissions of a two-item AnimatedGraphicTaskSet through the Django
test client (the full stack: authentication, rate limit, validation, rows, enqueue after commit).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    work = Path(tempfile.mkdtemp(prefix="loopdeck-bench-api-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    os.environ["LOOPDECK_DATA_DIR"] = str(work)
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379") + "/14"
    os.environ["API_RATE_LIMIT"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    import redis
    from django.core.files import File
    from django.core.management import call_command
    from django.test import Client

    from console.api.models import ApiKey
    from media_jobs.commands import videos as video_commands
    from media_jobs.encode import probe
    from media_jobs.models import AnimatedImageTemplate
    from tests.clips import make_clip

    connection = redis.Redis.from_url(os.environ["REDIS_URL"])
    if connection.dbsize():
        print(f"{os.environ['REDIS_URL']} is not empty; refusing to use it", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    clip = make_clip(work / "clip.mp4", seconds=3.0, fps=30)
    with clip.open("rb") as handle:
        video = video_commands.create_video(File(handle, name=clip.name), "bench", info=probe(clip))
    template = AnimatedImageTemplate.objects.create(name="bench gif", width=160)
    token = ApiKey.issue("bench")[1]
    client = Client(headers={"Authorization": f"Bearer {token}"})
    body = {"video_id": str(video.public_id), "animated_graphic_task_set": [
        {"definition": template.definition, "start_time_offset": 0, "end_time_offset": 1},
        {"definition": 20001, "start_time_offset": -1, "end_time_offset": 0}]}
    timings = []
    try:
        for i in range(n + 5):
            started = time.perf_counter()
            response = client.post("/api/v1/tasks", body, content_type="application/json")
            elapsed = time.perf_counter() - started
            assert response.status_code == 201, response.content
            if i >= 5:  # warm-up
                timings.append(elapsed * 1000)
    finally:
        connection.flushdb()
        shutil.rmtree(work, ignore_errors=True)
    timings.sort()
    print(f"POST /api/v1/tasks, {n} submissions of 2 outputs each (SQLite, Redis enqueue):")
    print(f"  median {statistics.median(timings):.1f} ms, p90 {timings[int(n * 0.9) - 1]:.1f} ms, "
          f"min {timings[0]:.1f} ms, max {timings[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
