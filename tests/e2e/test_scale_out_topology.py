"""Scale-out topology: one web machine and two worker machines that share nothing but
PostgreSQL, Redis and an S3 bucket (moto's S3 server on 127.0.0.1, a process of its own). One
worker is killed mid-render; every output must still end in the bucket, whole, and nothing may
be left on any machine's disk but in its scratch space."""

from __future__ import annotations

import io
import os
import urllib.request
import uuid
from pathlib import Path

import pytest
from PIL import Image, ImageSequence

from media_jobs.jobs import source_cache
from tests.clips import make_clip
from tests.s3server import moto_server
from tests.topology import (
    DEFAULT_DATABASE_URL,
    kill_tree,
    postgres_reachable,
    topology,
    wait_until,
)

pytestmark = pytest.mark.e2e

DATABASE_URL = os.environ.get("TOPOLOGY_DATABASE_URL", DEFAULT_DATABASE_URL)
RENDER_STARTED = "media_jobs.jobs.render.render_animated_image("


@pytest.fixture(scope="module")
def slow_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """160x120, 24 s at 30 fps: a GIF of every frame with a palette per frame takes seconds."""
    return make_clip(tmp_path_factory.mktemp("topology") / "slow.mp4", width=160, height=120, seconds=24, fps=30)


@pytest.fixture
def s3():
    with moto_server() as server:
        yield server


def query(sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(DATABASE_URL) as conn:
        return list(conn.execute(sql))


def rendering_on(workers: dict) -> object:
    """The machine whose worker runs a render that has claimed its image and reported progress."""
    # Under way, and far from the end: a kill while storing could leave an object without its row.
    busy = "SELECT rq_job_id FROM media_jobs_animatedimage WHERE status = 'PROCESSING' AND progress BETWEEN 5 AND 60"
    for (job_id,) in query(busy):
        for machine in workers:
            if job_id and job_id in machine.log("worker"):
                return machine
    return None


def frames_in(body: bytes) -> int:
    with Image.open(io.BytesIO(body)) as picture:
        count = 0
        for frame in ImageSequence.Iterator(picture):
            frame.load()
            count += 1
        return count


@pytest.mark.timeout(120)
def test_two_worker_machines_share_only_the_database_redis_and_the_bucket(s3, slow_clip, redis_url, tmp_path):
    if not postgres_reachable(DATABASE_URL):
        pytest.skip(f"PostgreSQL is not reachable at {DATABASE_URL}")
    bucket = s3.create_bucket(f"topology-{uuid.uuid4().hex[:8]}")
    top = topology(tmp_path, DATABASE_URL, redis_url, s3, bucket)
    try:
        web = top.start_web()
        first, first_process = top.start_worker("worker-1")
        second, second_process = top.start_worker("worker-2")

        video = top.upload(slow_clip, "topology")
        video = wait_until(lambda: (v := top.api("GET", f"/videos/{video['id']}"))["status"] != "PROCESSING" and v,
                           30, "the video to be prepared")
        assert video["status"] == "READY", video
        # Each render takes seconds (every frame, a palette per frame), long enough to kill one.
        template = top.api("POST", "/templates", {"name": "slow", "format": "gif", "fps": 30, "width": 320,
                                                  "duration": 6, "palette_mode": "per_frame",
                                                  "dither": "floyd_steinberg"})
        quick = top.api("POST", "/templates", {"name": "quick", "format": "webp", "fps": 10, "width": 160})
        items = [{"definition": template["definition"]}] * 3 + [{"definition": quick["definition"]}]
        task = top.api("POST", "/tasks", {"video_id": video["id"], "animated_graphic_task_set": items})

        # Kill the machine whose render is well under way (past its claim, frames coming out).
        workers = {first: first_process, second: second_process}
        victim = wait_until(lambda: rendering_on(workers), 30, "a render to be under way")
        survivor = second if victim is first else first
        kill_tree(workers[victim].pid)  # SIGKILL: the worker, its work horse and the render
        workers[victim].wait(timeout=10)

        task = wait_until(lambda: (t := top.api("GET", f"/tasks/{task['task_id']}"))["status"] == "FINISH" and t,
                          60, "the task to finish after the kill")
        outputs = task["animated_graphic_task_set"]
        assert task["result"] == "SUCCESS", [(o["status"], o["error_code"], o["error_message"]) for o in outputs]

        # Every output is whole in the bucket, behind a pre-signed link that expires.
        client = s3.client()
        for output in outputs:
            url = output["url"]
            assert url.startswith(f"{s3.url}/{bucket}/videos/") and "X-Amz-Expires=3600" in url, url
            with urllib.request.urlopen(url, timeout=10) as answer:
                body = answer.read()
            assert len(body) == output["size"] and frames_in(body) == output["frames"] > 0
        keys = s3.keys(bucket)
        assert len(keys) == 3 + len(outputs), keys  # the original, its cover, its strip of thumbnails, each output
        assert sum(k.endswith("/strip.jpg") for k in keys) == 1, keys
        assert not [k for k in keys if "/.partial-" in k] and s3.unfinished_uploads(bucket) == []
        assert client.head_object(Bucket=bucket, Key=keys[0])["ContentLength"] > 0

        # Both machines rendered; the killed one's render was done again by the other.
        assert RENDER_STARTED in victim.log("worker") and RENDER_STARTED in survivor.log("worker")
        assert max(row[0] for row in query("SELECT attempts FROM media_jobs_animatedimage")) == 2

        # Nothing on any machine's disk but scratch space; the web machine's upload spool is empty
        # again and the surviving worker's scratch space holds only its cache of whole sources.
        for machine in top.machines:
            assert machine.stored_files() == [], (machine.name, machine.stored_files())
        assert list(web.scratch.iterdir()) == []
        assert [p.name for p in survivor.scratch.iterdir()] == [source_cache.FOLDER]
        (cached,) = (survivor.scratch / source_cache.FOLDER).iterdir()
        assert cached.read_bytes() == slow_clip.read_bytes()
    finally:
        top.stop()
