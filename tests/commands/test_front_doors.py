"""Each user action through both front doors, the console and the JSON API, on the same data:
the same outcome and, when refused, the same code and message (the command's, shown beside the
field or on top in the console, as JSON in the API). Each case where the two used to disagree
is named after what the console used to do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable

import pytest
from django.urls import reverse
from django.utils.html import escape

from media_jobs.commands import tasks as task_commands
from media_jobs.commands.tasks import MAX_OUTPUTS_PER_TASK
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video, Workflow
from tests.api.conftest import ApiClient, api, api_key  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def video() -> Video:
    return Video.objects.create(title="Holiday", file="videos/x/original.mp4", status=Video.Status.READY,
                                duration=10.0, width=640, height=360, size=123456, container="mov,mp4")


def _task_with(video: Video, status: str, output_status: str, **output) -> tuple[Task, AnimatedImage]:
    template = AnimatedImageTemplate.objects.get(definition=20000)
    task = Task.objects.create(video=video, status=status)
    image = AnimatedImage.objects.create(task=task, video=video, definition=template.definition,
                                         template_name=template.name, params=template.params(),
                                         status=output_status, **output)
    return task, image


def _custom_templates(count: int) -> list[AnimatedImageTemplate]:
    base = AnimatedImageTemplate.objects.get(definition=20000)
    return [base.copy(f"t{i}-{uuid.uuid4().hex[:6]}") for i in range(count)]


@dataclass
class Case:
    """A situation, the console's request and the API's; `check` asserts the state afterwards."""

    name: str
    setup: Callable[[Video], dict]
    console: Callable[[object, dict], object]
    api: Callable[[ApiClient, dict], object]
    code: str | None  # None: both succeed
    check: Callable[[dict], None]


def _aborted_output(video: Video) -> dict:
    task, image = _task_with(video, Task.Status.ABORTED, AnimatedImage.Status.FAIL, error_code="Aborted")
    return {"task": task, "image": image}


def _waiting_output(video: Video) -> dict:
    task, image = _task_with(video, Task.Status.WAITING, AnimatedImage.Status.WAITING)
    return {"task": task, "image": image}


def _finished_task(video: Video) -> dict:
    task, image = _task_with(video, Task.Status.FINISH, AnimatedImage.Status.SUCCESS)
    return {"task": task, "image": image}


def _used_template(video: Video) -> dict:
    template = _custom_templates(1)[0]
    workflow = Workflow.objects.create(name=f"uses-{template.definition}")
    workflow.steps.create(position=0, template=template)
    return {"template": template}


def _many_templates(video: Video) -> dict:
    return {"templates": _custom_templates(MAX_OUTPUTS_PER_TASK + 1)}


def _still_there(key: str, status: str) -> Callable[[dict], None]:
    def check(state: dict) -> None:
        item = state[key]
        item.refresh_from_db()
        assert item.status == status
    return check


def _task_count(expected: int) -> Callable[[dict], None]:
    return lambda state: Task.objects.count() == expected or pytest.fail(f"{Task.objects.count()} tasks")


CASES = [
    Case("retry of an aborted output (the console put its task back to PROCESSING)", _aborted_output,
         lambda c, s: c.post(reverse("console-image-retry", args=[s["image"].public_id]), follow=True),
         lambda a, s: a.post(f"/api/v1/animated-images/{s['image'].public_id}/retry"),
         "Conflict", lambda s: (_still_there("image", "FAIL")(s), _still_there("task", "ABORTED")(s))),
    Case("retry of an aborted task", _aborted_output,
         lambda c, s: c.post(reverse("console-task-retry", args=[s["task"].task_id]), follow=True),
         lambda a, s: a.post(f"/api/v1/tasks/{s['task'].task_id}/retry"),
         "Conflict", _still_there("task", "ABORTED")),
    Case("delete of a waiting output (the console deleted it)", _waiting_output,
         lambda c, s: c.post(reverse("console-image-delete", args=[s["image"].public_id]), follow=True),
         lambda a, s: a.delete(f"/api/v1/animated-images/{s['image'].public_id}"),
         "Conflict", _still_there("image", "WAITING")),
    Case("abort of a finished task", _finished_task,
         lambda c, s: c.post(reverse("console-task-abort", args=[s["task"].task_id]), follow=True),
         lambda a, s: a.post(f"/api/v1/tasks/{s['task'].task_id}/abort"),
         "Conflict", _still_there("task", "FINISH")),
    Case("abort of a waiting task", _waiting_output,
         lambda c, s: c.post(reverse("console-task-abort", args=[s["task"].task_id]), follow=True),
         lambda a, s: a.post(f"/api/v1/tasks/{s['task'].task_id}/abort"),
         None, lambda s: (_still_there("task", "ABORTED")(s), _still_there("image", "FAIL")(s))),
    Case("set as cover of an output that is not finished", _waiting_output,
         lambda c, s: c.post(reverse("console-image-cover", args=[s["image"].public_id]), follow=True),
         lambda a, s: a.put(f"/api/v1/videos/{s['image'].video.public_id}/cover",
                            {"animated_image_id": str(s["image"].public_id)}),
         "Conflict", lambda s: Video.objects.get().cover_animated is None or pytest.fail("cover set")),
    Case("delete of a template a workflow uses", _used_template,
         lambda c, s: c.post(reverse("console-template-delete", args=[s["template"].definition]), follow=True),
         lambda a, s: a.delete(f"/api/v1/templates/{s['template'].definition}"),
         "Conflict", lambda s: AnimatedImageTemplate.objects.filter(pk=s["template"].pk).exists() or pytest.fail()),
    Case("delete of a preset", lambda v: {"template": AnimatedImageTemplate.objects.get(definition=20000)},
         lambda c, s: c.post(reverse("console-template-delete", args=[20000]), follow=True),
         lambda a, s: a.delete("/api/v1/templates/20000"),
         "OperationDenied", lambda s: AnimatedImageTemplate.objects.filter(definition=20000).exists() or pytest.fail()),
    Case("a workflow over the cap (it took 10,000 steps)", _many_templates,
         lambda c, s: c.post(reverse("console-workflow-create"), {
             "name": "big", "comment": "", "step_template": [str(t.definition) for t in s["templates"]],
             "step_start": [""] * len(s["templates"]), "step_end": [""] * len(s["templates"])}, follow=True),
         lambda a, s: a.post("/api/v1/workflows", {"name": "big", "comment": "",
                                                    "steps": [{"definition": t.definition} for t in s["templates"]]}),
         "InvalidParameter", lambda s: Workflow.objects.filter(name="big").exists() and pytest.fail("saved")),
    Case("a task over the cap", _many_templates,
         lambda c, s: c.post(reverse("console-video-processing", args=[Video.objects.get().public_id]),
                             {"templates": [t.pk for t in s["templates"]]}, follow=True),
         lambda a, s: a.post("/api/v1/tasks", {"video_id": str(Video.objects.get().public_id),
                                                "animated_graphic_task_set": [{"definition": t.definition}
                                                                              for t in s["templates"]]}),
         "InvalidParameter", _task_count(0)),
    Case("a range past the end of the video",
         lambda v: {"template": AnimatedImageTemplate.objects.get(definition=20000)},
         lambda c, s: c.post(reverse("console-video-processing", args=[Video.objects.get().public_id]),
                             {"templates": [s["template"].pk], "start_time_offset": "30"}, follow=True),
         lambda a, s: a.post("/api/v1/tasks", {"video_id": str(Video.objects.get().public_id),
                                                "animated_graphic_task_set": [{"definition": 20000,
                                                                               "start_time_offset": 30}]}),
         "InvalidTimeRange", _task_count(0)),
    Case("rename to a blank title", lambda v: {"video": v},
         lambda c, s: c.post(reverse("console-video-rename", args=[s["video"].public_id]), {"title": "  "}, follow=True),
         lambda a, s: a.patch(f"/api/v1/videos/{s['video'].public_id}", {"title": "  "}),
         "MissingParameter", lambda s: Video.objects.get().title == "Holiday" or pytest.fail("renamed")),
    Case("rename to a title over 255 characters", lambda v: {"video": v},
         lambda c, s: c.post(reverse("console-video-rename", args=[s["video"].public_id]), {"title": "x" * 256},
                             follow=True),
         lambda a, s: a.patch(f"/api/v1/videos/{s['video'].public_id}", {"title": "x" * 256}),
         "InvalidParameter", lambda s: Video.objects.get().title == "Holiday" or pytest.fail("renamed")),
]


def _message(body: dict) -> str:
    """The command's own words, without the API's `field: ` prefix."""
    message, field = body["message"], body.get("field")
    return message.split(": ", 1)[1] if field and message.startswith(f"{field}: ") else message


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("door", ["console", "api"])
def test_both_front_doors_apply_the_same_rule(case: Case, door: str, video, admin_client, api, redis_conn):
    state = case.setup(video)
    if door == "api":
        response = case.api(api, state)
        if case.code is None:
            assert response.status_code < 300, response.content
        else:
            assert response.status_code >= 400 and response.json()["code"] == case.code, response.content
    else:
        response = case.console(admin_client, state)
        assert response.status_code in (200, 400)
    case.check(state)


@pytest.mark.parametrize("case", [c for c in CASES if c.code], ids=[c.name for c in CASES if c.code])
def test_the_console_shows_the_message_the_api_answers(case: Case, video, admin_client, api, redis_conn):
    """Run through the API first (refused, nothing changes), then the console on the same state:
    the page shows the same words, so one rule produced both."""
    state = case.setup(video)
    body = case.api(api, state).json()
    assert body["code"] == case.code
    page = case.console(admin_client, state).content.decode()
    words = _message(body)
    assert escape(words[1:]).lower() in page.lower(), (words, body)


def test_the_cap_is_one_constant_for_workflows_and_tasks():
    assert MAX_OUTPUTS_PER_TASK == 50
    video = Video.objects.create(title="v", status=Video.Status.READY, duration=10.0)
    steps = [task_commands.StepRequest(AnimatedImageTemplate.objects.get(definition=20000))] * MAX_OUTPUTS_PER_TASK
    task = task_commands.submit_task(video, steps)
    assert task.outputs.count() == MAX_OUTPUTS_PER_TASK
