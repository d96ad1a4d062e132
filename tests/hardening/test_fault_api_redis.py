"""The JSON API while Redis is down: it answers from the database (the rate limit, counted in
Redis, is skipped rather than failing every request), accepts work, and the work is done once
Redis is back and the reconciler queues it."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from tests.workers import BurstWorker

from console.api.models import ApiKey
from media_jobs.jobs import queues
from media_jobs.models import Task, Video
from media_jobs.jobs.reconcile import reconcile
from tests.hardening.conftest import assert_nothing_lost, ready_video

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_api_answers_and_accepts_work_while_redis_is_down(private_redis, tiny_clip, media_root, settings):
    def drain() -> bool:
        worker = BurstWorker([queues.get_queue(name) for name in queues.ALL], connection=private_redis.client())
        return worker.work(burst=True, with_scheduler=False)

    settings.RECONCILE_INTERVAL = 0
    video = ready_video(tiny_clip, drain, "api during the outage")
    _, token = ApiKey.issue("outage")
    client, auth = Client(), {"Authorization": f"Bearer {token}"}

    private_redis.crash()
    listing = client.get("/api/v1/templates", headers=auth)
    assert listing.status_code == 200, listing.content[:300]
    submitted = client.post("/api/v1/tasks", json.dumps({
        "video_id": str(video.public_id), "animated_graphic_task_set": [{"definition": 20001}],
    }), content_type="application/json", headers=auth)
    assert submitted.status_code == 201, submitted.content[:300]
    task_id = submitted.json()["task_id"]
    assert client.get(f"/api/v1/tasks/{task_id}", headers=auth).json()["status"] == "WAITING"

    private_redis.start()
    report = reconcile()
    assert report.requeued, "the reconciler should queue the render Redis never received"
    drain()
    done = client.get(f"/api/v1/tasks/{task_id}", headers=auth).json()
    assert (done["status"], done["result"]) == ("FINISH", "SUCCESS")
    assert_nothing_lost([Task.objects.get(task_id=task_id)], media_root)


def test_an_import_whose_download_job_was_lost_fails_with_a_named_error(private_redis, settings):
    """An import from a URL queues its download after the commit; if Redis loses that job the URL
    is gone with it, so the reconciler ends the video with DownloadFailed instead of a crash."""
    settings.RECONCILE_INTERVAL = 0
    video = Video.objects.create(title="lost import", original_filename="clip.mp4",
                                 status=Video.Status.PROCESSING, prepare_job_id="fetch-lost")
    assert reconcile().videos_requeued == [video.pk]
    worker = BurstWorker([queues.get_queue(name) for name in queues.ALL], connection=private_redis.client())
    worker.work(burst=True, with_scheduler=False)
    video.refresh_from_db()
    assert (video.status, video.error_code) == (Video.Status.FAILED, "DownloadFailed")
    assert "import it again" in video.error_message
