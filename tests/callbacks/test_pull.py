"""The pull queue: PullEvents / ConfirmEvents with a shortened confirm timeout."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from media_jobs.callbacks import confirm_events, pull_events, save_subscription
from media_jobs.errors import LoopdeckError
from media_jobs.models import Delivery, Event, Subscription, Video
from media_jobs.jobs.reconcile import reconcile
from tests.callbacks.conftest import failed_upload

pytestmark = pytest.mark.django_db(transaction=True)


def aborted_task(video: Video) -> None:
    """A task aborted before it started: its task-finished event enters the queue."""
    from media_jobs.commands import tasks as task_commands
    from media_jobs.models import AnimatedImageTemplate

    template = AnimatedImageTemplate.objects.get(definition=20002)
    task_commands.abort_task(task_commands.submit_task(video, [task_commands.StepRequest(template)], check_range=False))


def test_unconfirmed_events_come_back_confirmed_ones_do_not(callback_settings):
    a = Video.objects.create(title="a")
    aborted_task(a)
    b = failed_upload("b")
    c = failed_upload("c")

    first = pull_events(wait_seconds=0)
    assert [(e.video_id, e.event_type) for e in first] == [
        (str(a.public_id), "ProcedureStateChanged"), (str(b.public_id), "NewFileUpload"),
        (str(c.public_id), "NewFileUpload"),
    ]
    assert all(e.content["EventHandle"] == e.handle for e in first)
    assert first[0].content["ProcedureStateChangeEvent"]["Status"] == "ABORTED"
    assert confirm_events([first[0].handle]).confirmed == [first[0].handle]
    assert pull_events(wait_seconds=0) == []  # the rest are out, waiting for their confirm

    time.sleep(1.1)  # PULL_CONFIRM_TIMEOUT is 1 s here
    again = pull_events(wait_seconds=0)
    assert [e.event_id for e in again] == [first[1].event_id, first[2].event_id]
    assert {e.handle for e in again}.isdisjoint({e.handle for e in first})
    result = confirm_events([first[1].handle, *(e.handle for e in again)])
    assert result.invalid == [first[1].handle]  # superseded by the new handle
    assert sorted(result.confirmed) == sorted(e.handle for e in again)

    time.sleep(1.1)
    assert pull_events(wait_seconds=0) == []
    assert Event.objects.filter(in_pull_queue=True, confirmed_at__isnull=False).count() == 3


def test_one_batch_holds_at_most_one_unconfirmed_event_per_video(callback_settings):
    """Issue 14: a batch held events 1 and 4 of one video; confirming only 4 brought 1 back
    after the timeout, after 4. Now a video's next event waits for the confirm of the one out."""
    a = Video.objects.create(title="a")
    for _ in range(3):
        aborted_task(a)  # each abort writes a task-finished event (in the queue) and an output event
    b = failed_upload("b")

    batch = pull_events(wait_seconds=0)
    assert [e.video_id for e in batch] == [str(a.public_id), str(b.public_id)]
    a1 = batch[0]
    confirm_events([batch[1].handle])
    assert pull_events(wait_seconds=0) == []  # across batches too: nothing more of a while a1 is out

    time.sleep(1.1)  # a1 times out unconfirmed: it comes back before anything later of a
    (back,) = pull_events(wait_seconds=0)
    assert (back.event_id, back.sequence) == (a1.event_id, a1.sequence)
    confirm_events([back.handle])
    sequences = [back.sequence]
    while len(sequences) < 3:
        (following,) = pull_events(wait_seconds=0)
        assert following.video_id == str(a.public_id)
        sequences.append(following.sequence)
        confirm_events([following.handle])
    assert sequences == sorted(sequences) and len(set(sequences)) == 3


def test_order_is_kept_per_video(callback_settings):
    a = Video.objects.create(title="a")
    aborted_task(a)
    aborted_task(a)
    b = failed_upload("b")

    (a1,) = pull_events(max_events=1, wait_seconds=0)
    # a's second event waits until its first is confirmed; b's is free to go.
    assert [e.video_id for e in pull_events(wait_seconds=0)] == [str(b.public_id)]
    confirm_events([a1.handle])
    (a2,) = pull_events(wait_seconds=0)
    assert (a2.video_id, a2.sequence) == (str(a.public_id), a1.sequence + 2)  # each abort also wrote an output event


def test_a_pull_waits_for_an_event_and_returns_it_at_once(callback_settings):
    video = Video.objects.create(title="later")

    def later() -> None:
        time.sleep(0.5)
        Video.objects.get(pk=video.pk).mark_failed("InvalidVideoFormat", "not a video")
        connection.close()

    started = time.monotonic()
    threading.Thread(target=later).start()
    pulled = pull_events(wait_seconds=5)
    waited = time.monotonic() - started
    assert [e.event_type for e in pulled] == ["NewFileUpload"] and 0.4 < waited < 2.0

    started = time.monotonic()
    assert pull_events(wait_seconds=0.6) == []
    assert 0.55 < time.monotonic() - started < 1.5


def test_at_most_sixteen_per_pull(callback_settings):
    for n in range(18):
        failed_upload(f"v{n}")
    assert len(pull_events(wait_seconds=0)) == 16
    assert len(pull_events(wait_seconds=0)) == 2


@pytest.mark.parametrize("kwargs", [{"max_events": 17}, {"max_events": 0}, {"wait_seconds": 6}])
def test_bad_pull_arguments_are_named_errors(kwargs):
    with pytest.raises(LoopdeckError) as caught:
        pull_events(**kwargs)
    assert caught.value.code == "InvalidParameter"


def test_bad_confirm_arguments_are_named_errors(db):
    with pytest.raises(LoopdeckError) as caught:
        confirm_events([])
    assert caught.value.code == "MissingParameter"
    with pytest.raises(LoopdeckError) as caught:
        confirm_events([f"h{n}" for n in range(17)])
    assert caught.value.code == "InvalidParameter"
    assert confirm_events(["never-given"]).invalid == ["never-given"]


def test_old_events_are_purged_unless_a_delivery_is_pending(callback_settings, receiver):
    failed_upload("old")
    rx = receiver()
    save_subscription(None, name="al", url=rx.url, shape=Subscription.Shape.ALIBABA)
    failed_upload("old but pending")
    failed_upload("new")
    five_days_ago = timezone.now() - timedelta(days=5)
    Event.objects.exclude(summary__startswith="new").update(created_at=five_days_ago)

    assert reconcile().events_purged == 1
    assert sorted(Event.objects.values_list("summary", flat=True)) == [
        "new: upload failed", "old but pending: upload failed"]
    assert Delivery.objects.count() == 2
