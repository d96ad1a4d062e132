"""Events and the pull queue through the API: the event log, and PullEvents / ConfirmEvents over
HTTP with a real task finishing in the in-process worker and a shortened confirm timeout."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from media_jobs.models import Event
from tests.api.conftest import ApiClient, assert_error
from tests.callbacks.conftest import (  # noqa: F401 - fixtures used by name
    callback_settings,
    failed_upload,
)

pytestmark = pytest.mark.django_db(transaction=True)

MISSING = "4f0e0e0e-0000-4000-8000-000000000000"
SUB = f"/api/v1/subscriptions/{MISSING}"
OPERATIONS = [
    ("get", "/api/v1/subscriptions"), ("post", "/api/v1/subscriptions"), ("get", SUB), ("patch", SUB),
    ("delete", SUB), ("post", f"{SUB}/rotate"), ("get", f"{SUB}/deliveries"),
    ("post", f"{SUB}/deliveries/{MISSING}/redeliver"), ("post", f"{SUB}/redeliver-failed"),
    ("get", "/api/v1/events"), ("get", f"/api/v1/events/{MISSING}"), ("post", "/api/v1/events/pull"),
    ("post", "/api/v1/events/confirm"),
]


def pull(api: ApiClient, **body: object) -> list[dict]:
    response = api.post("/api/v1/events/pull", {"wait_seconds": 0, **body})
    assert response.status_code == 200, response.content
    return response.json()["event_set"]


def confirm(api: ApiClient, handles: list[str]) -> dict:
    response = api.post("/api/v1/events/confirm", {"event_handles": handles})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_needs_a_key(anonymous, method: str, path: str) -> None:
    call = getattr(anonymous, method)
    response = call(path) if method in ("get", "delete") else call(path, {})
    assert_error(response, 401, "Unauthorized")


def test_the_openapi_document_lists_the_event_operations(anonymous) -> None:
    paths = anonymous.get("/api/v1/openapi.json").json()["paths"]
    documented = {(m, p) for p, item in paths.items() for m in item}
    for method, path in OPERATIONS:
        template = path.replace(f"{SUB}/deliveries/{MISSING}", "/api/v1/subscriptions/{subscription_id}/deliveries/{delivery_id}")
        template = template.replace(SUB, "/api/v1/subscriptions/{subscription_id}").replace(MISSING, "{event_id}")
        assert (method, template) in documented, (method, template)


def test_the_event_log_lists_filters_and_shows_both_shapes(api) -> None:
    a, b = failed_upload("a"), failed_upload("b")
    listing = api.get("/api/v1/events")
    assert listing.status_code == 200
    body = listing.json()
    assert body["total_count"] == 2 and [e["video_id"] for e in body["items"]] == [str(b.public_id), str(a.public_id)]
    only_a = api.get("/api/v1/events", {"video_id": str(a.public_id)}).json()
    assert [e["video_id"] for e in only_a["items"]] == [str(a.public_id)]
    assert api.get("/api/v1/events", {"kind": "UPLOAD", "limit": 1}).json()["total_count"] == 2
    assert api.get("/api/v1/events", {"kind": "TASK_FINISH"}).json()["total_count"] == 0
    assert api.get("/api/v1/events", {"event_type": "NewFileUpload"}).json()["total_count"] == 2
    assert api.get("/api/v1/events", {"event_type": "DynamicImageComplete"}).json()["total_count"] == 0

    event = a.events.get()
    detail = api.get(f"/api/v1/events/{event.event_id}").json()
    assert (detail["kind"], detail["event_type"], detail["sequence"], detail["in_pull_queue"]) == (
        "UPLOAD", "NewFileUpload", 1, True)
    assert detail["tencent"]["EventType"] == "NewFileUpload" and detail["alibaba"]["EventType"] == "FileUploadComplete"
    assert detail["deliveries"] == [] and detail["confirmed_at"] is None

    assert_error(api.get(f"/api/v1/events/{MISSING}"), 404, "ResourceNotFound")
    assert_error(api.get("/api/v1/events", {"video_id": "nope"}), 400, "InvalidParameter", "video_id")
    assert_error(api.get("/api/v1/events", {"kind": "EVERYTHING"}), 400, "InvalidParameter", "kind")
    assert_error(api.get("/api/v1/events", {"limit": 0}), 400, "InvalidParameter", "limit")


def test_pull_then_confirm_over_http_with_a_real_task(api, small_clip: Path, run_worker, callback_settings) -> None:  # noqa: F811
    with small_clip.open("rb") as handle:
        video = api.upload("/api/v1/videos", {"file": handle}).json()
    run_worker()
    gif = api.post("/api/v1/templates", {"name": "tiny", "width": 160, "fps": 5}).json()["definition"]
    task = api.post("/api/v1/tasks", {"video_id": video["id"], "animated_graphic_task_set": [
        {"definition": gif, "start_time_offset": 0, "end_time_offset": 1}]}).json()
    run_worker()
    assert api.get(f"/api/v1/tasks/{task['task_id']}").json()["result"] == "SUCCESS"

    (upload,) = pull(api)  # one event of a video at a time: the next waits for this confirm
    assert (upload["event_type"], upload["video_id"]) == ("NewFileUpload", video["id"])
    assert pull(api) == []
    assert confirm(api, [upload["event_handle"]]) == {"confirmed": [upload["event_handle"]], "invalid": []}
    (finished,) = pull(api)
    assert (finished["event_type"], finished["video_id"]) == ("ProcedureStateChanged", video["id"])
    assert upload["sequence"] < finished["sequence"]
    assert all(e["content"]["EventHandle"] == e["event_handle"] for e in (upload, finished))
    change = finished["content"]["ProcedureStateChangeEvent"]
    assert (change["Status"], change["TaskId"]) == ("FINISH", task["task_id"])
    (graphic,) = [r["AnimatedGraphicTask"] for r in change["MediaProcessResultSet"]]
    assert (graphic["Status"], graphic["Output"]["Width"], graphic["Output"]["Container"]) == ("SUCCESS", 160, "gif")
    assert pull(api) == []  # out, hidden until confirmed or timed out

    time.sleep(1.1)  # PULL_CONFIRM_TIMEOUT is 1 s here
    (again,) = pull(api)
    assert again["event_id"] == finished["event_id"] and again["event_handle"] != finished["event_handle"]
    result = confirm(api, [finished["event_handle"], again["event_handle"], "never-given-out"])
    assert result == {"confirmed": [again["event_handle"]], "invalid": [finished["event_handle"], "never-given-out"]}

    time.sleep(1.1)
    assert pull(api) == []
    shown = api.get(f"/api/v1/events/{finished['event_id']}").json()
    assert shown["pull_count"] == 2 and shown["confirmed_at"] is not None


def test_a_long_poll_returns_an_event_written_while_it_waits(api, callback_settings) -> None:  # noqa: F811
    video = failed_upload("first")
    confirm(api, [e["event_handle"] for e in pull(api)])  # the queue is empty now
    started = time.monotonic()

    def later() -> None:
        time.sleep(0.5)
        failed_upload("later")
        connection.close()

    writer = threading.Thread(target=later)
    writer.start()
    # The wait holds no transaction: it sees the commit from the other thread at once.
    events = pull(api, wait_seconds=5)
    writer.join()
    elapsed = time.monotonic() - started
    assert [e["event_type"] for e in events] == ["NewFileUpload"] and events[0]["video_id"] != str(video.public_id)
    assert 0.4 < elapsed < 3.5  # back once the event exists, well before the 5 s wait ran out
    assert pull(api, wait_seconds=0.3) == []


def test_pull_and_confirm_errors_name_the_field(api) -> None:
    url = "/api/v1/events/pull"
    for body, field in (({"max_events": 0}, "max_events"), ({"max_events": 17}, "max_events"),
                        ({"wait_seconds": 6}, "wait_seconds"), ({"wait_seconds": -1}, "wait_seconds"),
                        ({"wait_seconds": "soon"}, "wait_seconds"), ({"max_events": 2, "extra": 1}, "extra")):
        assert_error(api.post(url, body), 400, "InvalidParameter", field)
    url = "/api/v1/events/confirm"
    assert_error(api.post(url, {}), 400, "MissingParameter", "event_handles")
    assert_error(api.post(url, {"event_handles": []}), 400, "MissingParameter", "event_handles")
    assert_error(api.post(url, {"event_handles": [f"h{i}" for i in range(17)]}), 400, "InvalidParameter", "event_handles")
    assert_error(api.post(url, {"event_handles": [7]}), 400, "InvalidParameter", "event_handles[0]")
    assert not Event.objects.exists()
