"""Hostile media through the product, with a real RQ worker process: the upload probe answers each
file with its named error (JSON `{code, ...}` in the API, beside the field in the console) within
seconds; files that reach the worker fail the video or the task with the code; the worker keeps
running and renders a good clip afterwards; nothing is left PROCESSING; no playlist entry is
fetched and no byte of /etc/passwd lands anywhere under MEDIA_ROOT.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files import File
from django.urls import reverse

from console.api.models import ApiKey
from media_jobs.commands import videos as video_commands
from media_jobs.encode import ErrorCode
from media_jobs.models import (
    AnimatedImage,
    AnimatedImageTemplate,
    Task,
    Video,
    Workflow,
    WorkflowStep,
)
from tests.api.conftest import ApiClient
from tests.e2e.conftest import process_env, start_process, wait_for  # noqa: F401 - fixtures
from tests.hardening import fuzz_media

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# An upload's answer, probe included (the probe runs in a forked child with its memory cap).
ANSWER_BOUND_SECONDS = 5
# From a hostile video's creation to its final state in the worker (prepare, and renders).
WORKER_BOUND_SECONDS = 30
# The 10 h file's probe is fine (it is that long); the render of the whole video is 360,000
# frames and is refused by the frame cap.
WHOLE_RANGE_REFUSED = "10 h duration (10 frames an hour apart)"


@pytest.fixture
def listener():
    server = fuzz_media.Listener()
    yield server
    server.sock.close()


@pytest.fixture
def hostile(tmp_path, listener) -> list[fuzz_media.Hostile]:
    files = fuzz_media.hostile_files(tmp_path / "hostile", listener.port)
    assert {"zero bytes", "text named .mp4", "audio only", "truncated MP4", "truncated MKV", "random bytes",
            "60000x60000 MP4 (SPS, stsd, tkhd)", WHOLE_RANGE_REFUSED} <= {h.name for h in files}
    return files


@pytest.fixture
def api(db) -> ApiClient:
    return ApiClient(ApiKey.issue("hardening")[1])


@pytest.fixture
def workflow(db) -> Workflow:
    # The whole video at 10 fps: a clip of a few seconds is a few dozen frames.
    template = AnimatedImageTemplate.objects.create(name="hostile gif", format="gif", width=160, fps=10)
    flow = Workflow.objects.create(name="hostile")
    WorkflowStep.objects.create(workflow=flow, position=0, template=template)
    return flow


def upload(api: ApiClient, path: Path, workflow: Workflow):
    with path.open("rb") as handle:
        started = time.monotonic()
        response = api.upload("/api/v1/videos", {"file": handle, "workflow_id": str(workflow.public_id)})
        return response, time.monotonic() - started


def settled(video: Video) -> bool:
    video.refresh_from_db()
    if video.status == Video.Status.PROCESSING:
        return False
    return not Task.objects.filter(video=video).exclude(status=Task.Status.FINISH).exists()


def failure_codes(video: Video) -> set[str]:
    """The codes a user sees for this video: its own, else its outputs'."""
    if video.error_code:
        return {video.error_code}
    return {code for code in AnimatedImage.objects.filter(video=video).values_list("error_code", flat=True) if code}


def test_hostile_uploads_get_named_errors_and_the_worker_keeps_going(
    api, admin_client, hostile, workflow, listener, start_process, small_clip, media_root,  # noqa: F811 - fixture
):
    worker = start_process("worker")
    timings: dict[str, float] = {}

    # 1. Through the JSON API: the upload probe answers.
    accepted: dict[str, tuple[str, float]] = {}
    for item in hostile:
        response, seconds = upload(api, item.path, workflow)
        timings[f"API upload: {item.name}"] = seconds
        assert seconds < ANSWER_BOUND_SECONDS, f"{item.name}: answered after {seconds:.1f} s"
        if response.status_code == 201:
            assert "ok" in item.expect, f"{item.name} was accepted: {response.json()}"
            accepted[item.name] = (response.json()["id"], time.monotonic())
            continue
        body = response.json()
        assert response.status_code == 400, (item.name, body)
        assert body["code"] in item.expect, (item.name, body)
        assert body["field"] == "file" and body["message"].startswith("file: ") and body["request_id"]
    assert WHOLE_RANGE_REFUSED in accepted

    # 2. Through the console form: the error beside the field, as HTML and as the page script's JSON.
    for name in ("60000x60000 MP4 (SPS, stsd, tkhd)", "HLS playlist of another local video (.m3u8)",
                 "concat script of the video beside it (.mp4)"):
        item = next(h for h in hostile if h.name == name)
        with item.path.open("rb") as handle:
            started = time.monotonic()
            page = admin_client.post(reverse("console-upload"), {"file": handle})
            timings[f"console upload: {name}"] = time.monotonic() - started
        assert page.status_code == 400
        html = page.content.decode()
        code = next(iter(item.expect))
        assert 'id="error-file"' in html and f"{code}: " in html, name
        with item.path.open("rb") as handle:
            answer = admin_client.post(reverse("console-upload"), {"file": handle}, headers={"Accept": "application/json"})
        assert answer.status_code == 400 and answer.json()["errors"]["file"][0].startswith(f"{code}: ")
    assert not Video.objects.exclude(public_id__in=[i for i, _ in accepted.values()]).exists(), (
        "a refused upload was stored")

    # 3. Straight to the worker, as a file the upload probe never saw would arrive (the probe
    # then runs in the worker's prepare job): every one ends with its named error.
    created = {}
    for item in hostile:
        with item.path.open("rb") as handle:
            video = video_commands.create_video(File(handle, name=item.path.name), item.name, workflow)
        created[item.name] = (video, time.monotonic())
    uploaded = {f"{n} (uploaded)": (Video.objects.get(public_id=i), t) for n, (i, t) in accepted.items()}
    for label, (video, since) in {**created, **uploaded}.items():
        name = label.removesuffix(" (uploaded)")
        item = next(h for h in hostile if h.name == name)
        wait_for(lambda v=video: settled(v), WORKER_BOUND_SECONDS, f"{label} to settle")
        timings[f"worker: {label}"] = time.monotonic() - since
        assert worker.poll() is None, f"the worker died on {name}"
        codes = failure_codes(video)
        if name == WHOLE_RANGE_REFUSED:
            assert codes == {ErrorCode.INVALID_PARAMETER}, codes
        elif "ok" not in item.expect:
            assert codes and codes <= item.expect, (name, codes, video.error_message)
        page = admin_client.get(reverse("console-video-processing", args=[video.public_id])).content.decode()
        for code in codes:
            assert f"{code}: " in page, f"{name}: {code} not shown on the video's page"

    # 4. The same worker renders a good clip afterwards.
    response, seconds = upload(api, small_clip, workflow)
    assert response.status_code == 201
    good = Video.objects.get(public_id=response.json()["id"])
    wait_for(lambda: settled(good), 60, "the good clip's task to finish")
    task = Task.objects.get(video=good)
    assert (task.result, good.status) == (Task.Result.SUCCESS, Video.Status.READY)
    assert task.outputs.get().frames == 30
    assert worker.poll() is None

    assert not Task.objects.exclude(status=Task.Status.FINISH).exists(), "a task was left unfinished"
    assert not AnimatedImage.objects.filter(status=AnimatedImage.Status.PROCESSING).exists()
    assert listener.connections == 0, "a playlist entry was fetched"
    for path in media_root.rglob("*"):
        if path.is_file():
            assert fuzz_media.PASSWD_HEAD not in path.read_bytes(), f"{path} holds bytes of /etc/passwd"
    print("\n" + "\n".join(f"{seconds:6.2f} s  {what}" for what, seconds in timings.items()))
