"""A template's size budget through a real worker: the output fits, says what it lowered in the
console and the API, and an impossible budget fails the output by name with nothing stored."""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_jobs.commands import tasks as task_commands
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Video
from tests.api.conftest import ApiClient, api, api_key  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ready(small_clip, run_worker) -> Video:  # noqa: ANN001
    from django.core.files import File

    from media_jobs.commands import videos as video_commands

    with small_clip.open("rb") as handle:
        video = video_commands.create_video(File(handle, name="clip.mp4"), "budget clip")
    run_worker()
    video.refresh_from_db()
    assert video.status == Video.Status.READY
    return video


def _run(video: Video, run_worker, **fields) -> AnimatedImage:  # noqa: ANN001, ANN003
    template = AnimatedImageTemplate.objects.create(name=f"budget {len(fields)} {fields.get('max_size_kb')}",
                                                    definition=100000 + AnimatedImageTemplate.objects.count(),
                                                    **fields)
    task = task_commands.submit_task(video, [task_commands.StepRequest(template)])
    run_worker()
    return task.outputs.get()


def test_the_output_fits_and_says_what_it_lowered(ready: Video, run_worker, api: ApiClient, admin_client) -> None:  # noqa: ANN001
    free = _run(ready, run_worker, format="gif", width=320, fps=15)
    budget_kb = int(free.size * 0.7 / 1024)
    fitted = _run(ready, run_worker, format="gif", width=320, fps=15, max_size_kb=budget_kb)
    assert fitted.status == AnimatedImage.Status.SUCCESS
    assert fitted.size <= budget_kb * 1024 < free.size and fitted.budget_steps[0] == "colours 256 → 128"
    body = api.get(f"/api/v1/tasks/{fitted.task.task_id}").json()
    assert body["animated_graphic_task_set"][0]["budget_steps"] == fitted.budget_steps
    page = admin_client.get(reverse("console-task", args=[fitted.task.task_id])).content.decode()
    assert "size budget: colours 256 → 128" in page


def test_an_impossible_budget_fails_the_output_by_name(ready: Video, run_worker) -> None:  # noqa: ANN001
    failed = _run(ready, run_worker, format="gif", width=320, fps=15, max_size_kb=1, budget_order="colors")
    assert failed.status == AnimatedImage.Status.FAIL and not failed.file
    assert failed.error_code == "ResourceLimitExceeded" and "cannot fit in 1 KB" in failed.error_message


def test_the_budget_is_a_template_field_in_the_api(api: ApiClient) -> None:
    created = api.post("/api/v1/templates", {"name": "small", "max_size_kb": 200, "budget_order": "fps,size"})
    assert created.status_code == 201 and (created.json()["max_size_kb"], created.json()["budget_order"]) == (200, "fps,size")
    bad = api.post("/api/v1/templates", {"name": "bad order", "budget_order": "speed"})
    assert bad.status_code == 400 and bad.json()["field"] == "budget_order"
