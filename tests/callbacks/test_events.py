"""Events from real uploads and renders, pushed to real receivers in both vendor shapes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files import File
from django.db import transaction

from media_jobs.commands import tasks as task_commands

from media_jobs.commands import videos as video_commands
from media_jobs.jobs import queues
from media_jobs.callbacks import save_subscription, signing
from media_jobs.models import (
    AnimatedImageTemplate,
    Delivery,
    Event,
    Subscription,
    Task,
    Video,
    Workflow,
    WorkflowStep,
)
from tests.callbacks.conftest import failed_upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mixed_workflow() -> Workflow:
    """A GIF that succeeds and a WebP whose range lies past the end of a 3 s clip."""
    gif = AnimatedImageTemplate.objects.create(name="gif 160", format="gif", width=160, fps=10, duration=1.5)
    late = AnimatedImageTemplate.objects.create(name="late webp", format="webp", width=160, fps=10, start=10,
                                                duration=1)
    wf = Workflow.objects.create(name="pair")
    WorkflowStep.objects.create(workflow=wf, position=0, template=gif)
    WorkflowStep.objects.create(workflow=wf, position=1, template=late)
    return wf


def upload(path: Path, workflow: Workflow | None = None) -> Video:
    with path.open("rb") as handle:
        return video_commands.create_video(File(handle, name=path.name), "Animal World", workflow)


def fetch(client, url: str) -> bytes:
    """The bytes behind an absolute media URL (signed: no sign-in needed), served by the console itself."""
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200, url
    return b"".join(response.streaming_content)


def test_a_finished_task_reaches_both_shapes_signed_with_working_urls(
        small_clip, mixed_workflow, callback_settings, receiver, run_worker, client):
    tencent_rx, alibaba_rx = receiver(), receiver()
    _, tencent_secret = save_subscription(None, name="tc", url=tencent_rx.url, shape=Subscription.Shape.TENCENT)
    _, alibaba_secret = save_subscription(None, name="al", url=alibaba_rx.url, shape=Subscription.Shape.ALIBABA)

    video = upload(small_clip, mixed_workflow)
    run_worker()

    task = Task.objects.get(video=video)
    gif, late = task.outputs.order_by("position")
    assert all(signing.verify(tencent_secret, r.headers, r.body) for r in tencent_rx.received)
    assert all(signing.verify(alibaba_secret, r.headers, r.body) for r in alibaba_rx.received)

    # Tencent: the upload, then ProcedureStateChanged once the task finished.
    upload_event, finished = (r.json for r in tencent_rx.received)
    assert upload_event["EventType"] == "NewFileUpload"
    assert upload_event["FileUploadEvent"]["FileId"] == str(video.public_id)
    assert upload_event["FileUploadEvent"]["ProcedureTaskId"] == str(task.task_id)
    assert finished["EventType"] == "ProcedureStateChanged"
    change = finished["ProcedureStateChangeEvent"]
    assert (change["TaskId"], change["Status"], change["FileName"]) == (str(task.task_id), "FINISH", "Animal World")
    assert change["MetaData"]["Width"] == 320 and change["MetaData"]["Duration"] == pytest.approx(3.0, abs=0.1)
    assert hashlib.md5(fetch(client, change["FileUrl"])).hexdigest() == hashlib.md5(small_clip.read_bytes()).hexdigest()
    ok, failed = (entry["AnimatedGraphicTask"] for entry in change["MediaProcessResultSet"])
    assert {e["Type"] for e in change["MediaProcessResultSet"]} == {"AnimatedGraphics"}
    assert (ok["Status"], ok["ErrCode"], ok["Input"]["Definition"]) == ("SUCCESS", 0, gif.definition)
    output = ok["Output"]
    assert output["Url"].startswith("https://media.example.com/media/videos/")
    served = fetch(client, output["Url"])
    assert hashlib.md5(served).hexdigest() == output["Md5"] == gif.md5 and len(served) == output["Size"]
    assert (output["Container"], output["Width"], output["Height"]) == ("gif", 160, 120)
    assert output["StartTimeOffset"] == 0 and output["EndTimeOffset"] == pytest.approx(1.5)
    assert (failed["Status"], failed["ErrCodeExt"]) == ("FAIL", "InvalidTimeRange") and "Output" not in failed
    assert failed["ErrCode"] != 0 and failed["Message"] == late.error_message

    # Alibaba: the upload, then one DynamicImageComplete per output.
    shapes = [r.json for r in alibaba_rx.received]
    assert [s["EventType"] for s in shapes] == ["FileUploadComplete", "DynamicImageComplete", "DynamicImageComplete"]
    assert shapes[0]["Status"] == "success" and shapes[0]["VideoId"] == str(video.public_id)
    done = {s["JobId"]: s for s in shapes[1:]}
    info = done[str(gif.public_id)]["DynamicImageJobInfo"]
    assert done[str(gif.public_id)]["Status"] == "success"
    assert (info["Width"], info["Height"], info["Fps"], info["FileSize"]) == ("160", "120", "10", str(gif.size))
    assert hashlib.md5(fetch(client, info["FileURL"])).hexdigest() == gif.md5
    bad = done[str(late.public_id)]
    assert (bad["Status"], bad["ErrorCode"]) == ("fail", "InvalidTimeRange") and "DynamicImageJobInfo" not in bad

    # Every event has its own id, and numbers count up per video in the order things happened.
    events = list(Event.objects.filter(video_public_id=video.public_id).order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[0].kind == Event.Kind.UPLOAD and events[-1].kind == Event.Kind.TASK_FINISH
    assert len({e.event_id for e in events}) == len(events)
    assert finished["Sequence"] == events[-1].sequence and finished["EventId"] == str(events[-1].event_id)
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.DELIVERED}


def test_every_state_change_when_asked(small_clip, callback_settings, receiver, run_worker):
    rx = receiver()
    save_subscription(None, name="all", url=rx.url, shape=Subscription.Shape.TENCENT,
                      on_upload=False, on_task_finish=False, on_task_state=True)
    video = upload(small_clip)
    run_worker()
    template = AnimatedImageTemplate.objects.get(definition=20002)
    task = task_commands.submit_task(Video.objects.get(pk=video.pk), [task_commands.StepRequest(template)])
    run_worker()

    states = [r.json["ProcedureStateChangeEvent"]["Status"] for r in rx.received]
    assert states == ["PROCESSING", "FINISH"]
    assert {r.json["ProcedureStateChangeEvent"]["TaskId"] for r in rx.received} == {str(task.task_id)}
    sequences = [r.json["Sequence"] for r in rx.received]
    assert sequences == sorted(sequences)


def test_an_event_is_written_only_with_its_state_change(callback_settings, receiver, redis_conn):
    rx = receiver()
    save_subscription(None, name="al", url=rx.url, shape=Subscription.Shape.ALIBABA)
    video = Video.objects.create(title="clip")

    with pytest.raises(RuntimeError), transaction.atomic():
        video.mark_failed("InvalidVideoFormat", "not a video")
        raise RuntimeError("the process died before commit")

    assert not Event.objects.exists() and not Delivery.objects.exists()
    assert queues.get_queue(queues.CALLBACKS).count == 0  # no job for an event that never was
    Video.objects.get(pk=video.pk).mark_failed("InvalidVideoFormat", "not a video")
    assert Event.objects.count() == 1 and Delivery.objects.count() == 1
    assert queues.get_queue(queues.CALLBACKS).count == 1


def test_a_sent_event_keeps_its_snapshot(callback_settings):
    video = failed_upload("first title")
    Video.objects.filter(pk=video.pk).update(title="renamed")
    event = Event.objects.get()
    assert event.tencent["FileUploadEvent"]["MediaBasicInfo"]["Name"] == "first title"


def test_disabled_and_uninterested_subscriptions_get_nothing(callback_settings, receiver):
    rx = receiver()
    save_subscription(None, name="off", url=rx.url, shape=Subscription.Shape.ALIBABA, enabled=False)
    save_subscription(None, name="outputs only", url=rx.url, shape=Subscription.Shape.ALIBABA, on_upload=False)
    # Tencent has no per-output event: a Tencent subscription never gets DynamicImageComplete.
    save_subscription(None, name="tc", url=rx.url, shape=Subscription.Shape.TENCENT, on_upload=False)
    failed_upload()
    assert not Delivery.objects.exists()
