"""A burst of 200 submissions with two worker processes (the long variant: `python -m
tests.hardening.burst --tasks 1000 --workers 2`)."""

from __future__ import annotations

import pytest

from tests.hardening import burst
from tests.hardening.conftest import poll, ready_video

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TASKS = 200


def test_a_burst_of_200_submissions_with_two_workers_finishes_each_exactly_once(tiny_clip, run_worker, processes,
                                                                               media_root):
    video = ready_video(tiny_clip, run_worker, "burst")
    template = burst.burst_template()
    for _ in range(2):
        processes.start("worker")
    processes.start("reconciler")

    tasks, submit_seconds = burst.submit(video, template, TASKS)
    pks = [t.pk for t in tasks]
    poll(lambda: burst.unfinished(pks) == 0, 120, f"all {TASKS} tasks to finish", processes)
    print(f"\nburst: {burst.figures(pks, submit_seconds)}")
    burst.check(tasks, media_root)
