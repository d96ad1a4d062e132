"""The lost-worker bound with room to spare: a render whose worker is killed is re-queued just
after its last heartbeat turns stale, not up to a whole reconcile interval later, while another
worker keeps both cores busy. The periods are shortened (stale after 5 s, passes 8 s apart: a
bound of 13 s) and the reconciler starts right after the kill, at any phase of its passes."""

from __future__ import annotations

import time

import pytest

from media_jobs.commands import tasks as task_commands
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task
from tests.e2e.conftest import kill_tree
from tests.hardening.conftest import poll, ready_video

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STALE_AFTER, INTERVAL = 5.0, 8.0
PERIODS = {"HEARTBEAT_INTERVAL": "0.5", "HEARTBEAT_STALE_AFTER": str(STALE_AFTER), "RECONCILE_INTERVAL": str(INTERVAL)}
# Measured 2.06-2.3 s after the last heartbeat on 2 busy cores.
MARGIN = 1.0


def slow_tasks(video, count: int) -> list[Task]:
    """Renders of 2.5-5 s each (720 frames, a palette each), as in the SIGTERM tests."""
    slow = AnimatedImageTemplate.objects.create(
        name="slow", format="gif", fps=30, width=320, palette_mode="per_frame", dither="floyd_steinberg"
    )
    return [task_commands.submit_task(video, [task_commands.StepRequest(slow)]) for _ in range(count)]


def test_a_lost_render_is_requeued_just_after_its_heartbeat_turns_stale(slow_clip, run_worker, processes,
                                                                       settings):
    settings.HEARTBEAT_STALE_AFTER, settings.RECONCILE_INTERVAL = STALE_AFTER, INTERVAL
    video = ready_video(slow_clip, run_worker, "bound")
    tasks = slow_tasks(video, 2)
    workers = [processes.start("worker", **PERIODS) for _ in range(2)]

    def rendering(task: Task) -> bool:
        image = task.outputs.get()
        return image.status == AnimatedImage.Status.PROCESSING and image.progress > 5

    poll(lambda: all(rendering(t) for t in tasks), 60, "both renders to be under way", processes)
    kill_tree(workers[0])  # the other worker goes on rendering: both cores stay busy
    time.sleep(1.0)
    running = [t.outputs.get() for t in tasks]
    lost = min((i for i in running if i.status == AnimatedImage.Status.PROCESSING), key=lambda i: i.heartbeat_at)
    last_beat, job_id = lost.heartbeat_at.timestamp(), lost.rq_job_id
    processes.start("reconciler", **PERIODS)  # its passes start at whatever phase

    def requeued() -> bool:
        lost.refresh_from_db()
        return lost.status != AnimatedImage.Status.PROCESSING or lost.rq_job_id != job_id

    poll(requeued, STALE_AFTER + INTERVAL + 5, "the lost render to be re-queued", processes)
    after = time.time() - last_beat
    print(f"\nre-queued {after:.2f} s after the last heartbeat (bound {STALE_AFTER + INTERVAL:.0f} s)")
    assert STALE_AFTER <= after <= STALE_AFTER + MARGIN
