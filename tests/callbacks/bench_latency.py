"""Benchmark: latency from a task finishing to its ProcedureStateChanged reaching a receiver.

Not part of the test run (the file name does not start with test_). Run it explicitly:

    TEST_REDIS_URL=redis://127.0.0.1:6379 /tmp/venv/bin/pytest tests/callbacks/bench_latency.py -s -p no:logging

A real worker process (started as the run command starts it, forking a work-horse per job)
serves the callbacks queue; tasks are finished one after another through `Task.refresh_status`,
the production code path, and a real HTTP receiver on 127.0.0.1 notes when each event arrives.
Prints the median, p90 and max over N events.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from console.process.supervisor import worker_argv
from media_jobs.callbacks import save_subscription
from media_jobs.models import (
    AnimatedImage,
    AnimatedImageTemplate,
    Subscription,
    Task,
    Video,
)
from tests.e2e.conftest import database_url, kill_tree

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = 100
MANAGE = str(Path(settings.BASE_DIR) / "manage.py")


def finish_one_task(video: Video, template: AnimatedImageTemplate) -> tuple[Task, float]:
    """A task with one output that fails at once; returns it and the moment it finished."""
    task = Task.objects.create(video=video, status=Task.Status.PROCESSING)
    image = AnimatedImage.objects.create(task=task, video=video, definition=template.definition,
                                         template_name=template.name, params=template.params())
    image.record_failure("InvalidTimeRange", "benchmark")
    finished = time.time()
    assert task.refresh_status()
    return task, finished


def test_latency_from_task_finish_to_receiver(callback_settings, receiver, redis_url, media_root):
    rx = receiver()
    save_subscription(None, name="bench", url=rx.url, shape=Subscription.Shape.TENCENT, on_upload=False)
    video = Video.objects.create(title="bench", status=Video.Status.READY)
    template = AnimatedImageTemplate.objects.get(definition=20000)
    env = dict(os.environ, REDIS_URL=redis_url, DATABASE_URL=database_url(), MEDIA_ROOT=str(media_root),
               ALLOW_PRIVATE_ADDRESSES="true", LOOPDECK_DATA_DIR=str(settings.DATA_DIR))
    worker = subprocess.Popen(worker_argv(MANAGE), env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        finish_one_task(video, template)  # warm-up: the worker imports Django and connects
        deadline = time.monotonic() + 30
        while not rx.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rx.received, "the worker never delivered"
        latencies = []
        for _ in range(EVENTS):
            task, finished = finish_one_task(video, template)
            expected = len(rx.received) + 1
            deadline = time.monotonic() + 10
            while len(rx.received) < expected and time.monotonic() < deadline:
                time.sleep(0.001)
            arrival = rx.received[-1]
            assert arrival.json["ProcedureStateChangeEvent"]["TaskId"] == str(task.task_id)
            latencies.append((arrival.at - finished) * 1000)
    finally:
        kill_tree(worker)
    latencies.sort()
    print(f"\ntask finish → receiver over {EVENTS} events: median {statistics.median(latencies):.1f} ms, "
          f"p90 {latencies[int(EVENTS * 0.9) - 1]:.1f} ms, max {latencies[-1]:.1f} ms "
          f"(database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, worker forks per job)")
