"""Tasks and animated images through the API with real renders; idempotent submission."""

from __future__ import annotations

from pathlib import Path

import pytest

from media_jobs.models import AnimatedImage, Task
from tests.api.conftest import ApiClient, assert_error

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def video_id(api: ApiClient, small_clip: Path, run_worker) -> str:  # noqa: ANN001
    with small_clip.open("rb") as handle:
        video = api.upload("/api/v1/videos", {"file": handle}).json()
    run_worker()
    return video["id"]


@pytest.fixture
def gif(api: ApiClient) -> int:
    return api.post("/api/v1/templates", {"name": "gif 160", "width": 160, "fps": 10}).json()["definition"]


def test_a_task_set_with_offsets_renders_each_output(api, video_id, gif, run_worker) -> None:  # noqa: ANN001
    response = api.post("/api/v1/tasks", {"video_id": video_id, "animated_graphic_task_set": [
        {"definition": gif, "start_time_offset": 0.5, "end_time_offset": 1.5},
        {"definition": gif, "start_time_offset": -1, "end_time_offset": 0},
    ]})
    assert response.status_code == 201
    task = response.json()
    assert (task["status"], task["origin"], task["progress"]) == ("WAITING", "API", 0)
    assert [o["status"] for o in task["animated_graphic_task_set"]] == ["WAITING", "WAITING"]
    run_worker()
    done = api.get(f"/api/v1/tasks/{task['task_id']}").json()
    assert (done["status"], done["result"], done["progress"], done["error_code"]) == ("FINISH", "SUCCESS", 100, "")
    first, last = done["animated_graphic_task_set"]
    assert (first["frames"], first["width"], first["height"]) == (10, 160, 120)
    assert (first["start_offset"], first["end_offset"]) == (pytest.approx(0.5), pytest.approx(1.5))
    # Negative offsets count from the end of the 3 s clip.
    assert (last["start_offset"], last["end_offset"]) == (pytest.approx(2.0), pytest.approx(3.0, abs=0.05))
    assert last["start_time_offset"] == -1 and ".gif?sig=" in last["url"] and len(last["md5"]) == 32


def test_a_task_from_a_workflow(api, video_id, gif, run_worker) -> None:  # noqa: ANN001
    wf = api.post("/api/v1/workflows", {"name": "pair", "steps": [{"definition": gif}, {"definition": 20001}]}).json()
    task = api.post("/api/v1/tasks", {"video_id": video_id, "workflow_id": wf["id"]}).json()
    assert task["workflow_id"] == wf["id"] and [o["definition"] for o in task["animated_graphic_task_set"]] == [gif, 20001]
    run_worker()
    assert api.get(f"/api/v1/tasks/{task['task_id']}").json()["result"] == "SUCCESS"


def test_submission_errors_name_the_item_and_create_nothing(api, video_id, gif) -> None:  # noqa: ANN001
    url = "/api/v1/tasks"
    item = {"definition": gif}
    assert_error(api.post(url, {"video_id": video_id, "animated_graphic_task_set": [item, {"definition": gif, "start_time_offset": 5}]}),
                 400, "InvalidTimeRange", "animated_graphic_task_set[1].start_time_offset")
    assert_error(api.post(url, {"video_id": video_id, "animated_graphic_task_set": [{"definition": 999}]}),
                 400, "InvalidParameter", "animated_graphic_task_set[0].definition")
    assert_error(api.post(url, {"video_id": video_id, "animated_graphic_task_set": []}),
                 400, "MissingParameter", "animated_graphic_task_set")
    assert_error(api.post(url, {"video_id": video_id}), 400, "MissingParameter", "animated_graphic_task_set")
    assert_error(api.post(url, {"video_id": video_id, "animated_graphic_task_set": [item],
                                "workflow_id": video_id}), 400, "InvalidParameter", "workflow_id")
    assert_error(api.post(url, {"video_id": video_id, "workflow_id": video_id}), 404, "ResourceNotFound", "workflow_id")
    assert_error(api.post(url, {"video_id": "4f0e0e0e-0000-4000-8000-000000000000", "animated_graphic_task_set": [item]}),
                 404, "ResourceNotFound", "video_id")
    assert_error(api.post(url, {"video_id": "nope", "animated_graphic_task_set": [item]}), 400, "InvalidParameter", "video_id")
    assert_error(api.post(url, {"animated_graphic_task_set": [item]}), 400, "MissingParameter", "video_id")
    assert_error(api.post(url, {"video_id": video_id, "animated_graphic_task_set": [{"definition": gif, "end_time_offset": float("nan")}]}),
                 400, "InvalidParameter")
    assert not Task.objects.exists()


def test_list_filters_by_status_video_and_time(api, video_id, gif, run_worker) -> None:  # noqa: ANN001
    for _ in range(3):
        api.post("/api/v1/tasks", {"video_id": video_id, "animated_graphic_task_set": [{"definition": gif}]})
    waiting = api.get("/api/v1/tasks", {"status": "WAITING", "video_id": video_id, "limit": 2}).json()
    assert waiting["total_count"] == 3 and len(waiting["items"]) == 2
    first = api.get(f"/api/v1/tasks/{waiting['items'][0]['task_id']}").json()
    assert api.get("/api/v1/tasks", {"created_after": first["created_at"]}).json()["total_count"] == 1
    assert api.get("/api/v1/tasks", {"created_before": first["created_at"]}).json()["total_count"] == 2
    assert_error(api.get("/api/v1/tasks", {"status": "DONE"}), 400, "InvalidParameter", "status")
    run_worker()
    assert api.get("/api/v1/tasks", {"status": "FINISH"}).json()["total_count"] == 3
    assert_error(api.get("/api/v1/tasks/4f0e0e0e-0000-4000-8000-000000000000"), 404, "ResourceNotFound")


def test_abort_a_waiting_task_only(api, video_id, gif, run_worker) -> None:  # noqa: ANN001
    task = api.post("/api/v1/tasks", {"video_id": video_id, "animated_graphic_task_set": [{"definition": gif}]}).json()
    aborted = api.post(f"/api/v1/tasks/{task['task_id']}/abort").json()
    assert aborted["status"] == "ABORTED"
    assert aborted["animated_graphic_task_set"][0]["error_code"] == "Aborted"
    assert_error(api.post(f"/api/v1/tasks/{task['task_id']}/abort"), 409, "Conflict")
    assert_error(api.post(f"/api/v1/tasks/{task['task_id']}/retry"), 409, "Conflict")
    run_worker()
    assert api.get(f"/api/v1/tasks/{task['task_id']}").json()["status"] == "ABORTED"
    assert not AnimatedImage.objects.filter(status="SUCCESS").exists()


def test_retry_queues_failed_outputs_again(api, video_id, gif, run_worker) -> None:  # noqa: ANN001
    task = api.post("/api/v1/tasks", {"video_id": video_id, "animated_graphic_task_set": [{"definition": gif}]}).json()
    assert_error(api.post(f"/api/v1/tasks/{task['task_id']}/retry"), 409, "Conflict")
    # A worker lost mid-render: the output failed (as the reconciler records it).
    image = AnimatedImage.objects.get()
    image.record_failure("WorkerLost", "its worker stopped responding")
    image.task.refresh_status()
    failed = api.get(f"/api/v1/tasks/{task['task_id']}").json()
    assert (failed["status"], failed["result"], failed["error_code"]) == ("FINISH", "FAIL", "WorkerLost")
    retried = api.post(f"/api/v1/tasks/{task['task_id']}/retry").json()
    assert retried["queued"] == 1 and retried["task"]["animated_graphic_task_set"][0]["status"] == "WAITING"
    run_worker()
    assert api.get(f"/api/v1/tasks/{task['task_id']}").json()["result"] == "SUCCESS"


def test_animated_images_list_get_retry_delete(api, video_id, gif, run_worker) -> None:  # noqa: ANN001
    task = api.post("/api/v1/tasks", {"video_id": video_id, "animated_graphic_task_set": [
        {"definition": gif, "end_time_offset": 1}, {"definition": 20001, "end_time_offset": 1}]}).json()
    first_id = task["animated_graphic_task_set"][0]["id"]
    assert_error(api.delete(f"/api/v1/animated-images/{first_id}"), 409, "Conflict")
    run_worker()
    listed = api.get(f"/api/v1/videos/{video_id}/animated-images").json()
    assert listed["total_count"] == 2 and [i["container"] for i in listed["items"]] == ["gif", "webp"]
    assert api.get(f"/api/v1/videos/{video_id}/animated-images", {"status": "FAIL"}).json()["total_count"] == 0
    image = api.get(f"/api/v1/animated-images/{first_id}").json()
    assert image["task_id"] == task["task_id"] and image["video_id"] == video_id and image["frames"] == 10
    assert api.client.get(image["url"]).status_code == 200
    assert_error(api.post(f"/api/v1/animated-images/{first_id}/retry"), 409, "Conflict")
    assert api.delete(f"/api/v1/animated-images/{first_id}").status_code == 204
    assert api.client.get(image["url"]).status_code == 404
    assert api.get(f"/api/v1/videos/{video_id}/animated-images").json()["total_count"] == 1
    assert_error(api.get(f"/api/v1/animated-images/{first_id}"), 404, "ResourceNotFound")
    assert_error(api.get("/api/v1/videos/4f0e0e0e-0000-4000-8000-000000000000/animated-images"), 404, "ResourceNotFound")


def test_an_idempotency_key_makes_a_retried_submission_create_one_task(api, video_id, gif) -> None:  # noqa: ANN001
    body = {"video_id": video_id, "animated_graphic_task_set": [{"definition": gif}]}
    first = api.post("/api/v1/tasks", body, headers={"Idempotency-Key": "order-42"})
    again = api.post("/api/v1/tasks", body, headers={"Idempotency-Key": "order-42"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert first["X-Request-Id"] != again["X-Request-Id"]
    assert Task.objects.count() == 1
    changed = {**body, "animated_graphic_task_set": [{"definition": 20000}]}
    assert_error(api.post("/api/v1/tasks", changed, headers={"Idempotency-Key": "order-42"}), 409, "Conflict",
                 "Idempotency-Key")
    # Another key is another request; without a key every POST creates.
    assert api.post("/api/v1/tasks", body, headers={"Idempotency-Key": "order-43"}).status_code == 201
    assert api.post("/api/v1/tasks", body).status_code == 201
    assert Task.objects.count() == 3


def test_an_idempotent_upload_stores_one_video(api, small_clip) -> None:  # noqa: ANN001
    answers = []
    for _ in range(2):
        with small_clip.open("rb") as handle:
            answers.append(api.upload("/api/v1/videos", {"file": handle, "title": "once"},
                                      headers={"Idempotency-Key": "upload-1"}))
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert api.get("/api/v1/videos").json()["total_count"] == 1
