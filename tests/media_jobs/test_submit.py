"""Submitting a task: parameters are copied, overrides apply, ranges are checked up front."""

import pytest

from media_jobs.commands import tasks as task_commands
from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready_video() -> Video:
    return Video.objects.create(title="clip", file="videos/x/original.mp4", status=Video.Status.READY, duration=10.0)


def test_a_task_copies_the_template_so_later_edits_do_not_change_it(ready_video):
    template = AnimatedImageTemplate.objects.create(name="t", format="webp", fps=12, width=320)
    task = task_commands.submit_task(ready_video, [task_commands.StepRequest(template)])
    template.fps = 30
    template.save()
    template.delete()
    image = AnimatedImage.objects.get(task=task)
    assert image.params["fps"] == 12 and image.params["width"] == 320
    assert image.definition >= 100000 and image.template_name == "t"
    assert image.template is None  # the template is gone; the copy stays
    assert task.status == Task.Status.WAITING and task.origin == Task.Origin.CONSOLE


def test_start_and_end_offsets_override_the_templates_range(ready_video):
    template = AnimatedImageTemplate.objects.create(name="t", start=1, duration=2)
    task = task_commands.submit_task(ready_video, [task_commands.StepRequest(template, -4, -1)])
    spec = task.outputs.get().spec()
    assert (spec.start, spec.end, spec.duration) == (-4, -1, None)
    assert spec.resolve_range(10.0).start == 6 and spec.resolve_range(10.0).end == 9


def test_an_end_offset_of_zero_means_the_end_of_the_video(ready_video):
    template = AnimatedImageTemplate.objects.create(name="t", duration=2)
    spec = task_commands.output_spec(task_commands.StepRequest(template, 3, 0))
    assert spec.end is None and spec.duration is None
    assert spec.resolve_range(10.0).end == 10.0


def test_an_offset_past_the_end_is_refused_and_names_the_field(ready_video):
    template = AnimatedImageTemplate.objects.get(definition=20001)
    with pytest.raises(LoopdeckError) as caught:
        task_commands.submit_task(ready_video, [task_commands.StepRequest(template, 12, None)])
    assert caught.value.code == ErrorCode.INVALID_TIME_RANGE
    assert caught.value.field == "start_time_offset"
    assert not Task.objects.exists()


def test_a_task_needs_at_least_one_step(ready_video):
    with pytest.raises(LoopdeckError) as caught:
        task_commands.submit_task(ready_video, [])
    assert caught.value.code == ErrorCode.MISSING_PARAMETER


def test_a_waiting_or_running_task_can_be_aborted_but_not_a_finished_one(ready_video):
    template = AnimatedImageTemplate.objects.get(definition=20000)
    task = task_commands.submit_task(ready_video, [task_commands.StepRequest(template)])
    task = task_commands.abort_task(task)
    assert task.status == Task.Status.ABORTED
    assert task.outputs.get().status == AnimatedImage.Status.FAIL
    assert task.outputs.get().error_code == "Aborted"
    running = task_commands.submit_task(ready_video, [task_commands.StepRequest(template)])
    running.mark_processing()
    assert task_commands.abort_task(running).status == Task.Status.ABORTED
    with pytest.raises(LoopdeckError) as caught:
        task_commands.abort_task(running)
    assert caught.value.code == ErrorCode.CONFLICT
