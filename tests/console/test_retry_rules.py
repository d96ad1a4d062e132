"""Retry is offered only for failures a rerun can fix; otherwise the page says why (issue 15)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_jobs.models import AnimatedImage, Task
from media_jobs.retry_rules import can_retry, retry_refusal
from tests.console.test_pages import finished_image, video  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def failed(video, code: str, message: str = "boom") -> AnimatedImage:  # noqa: F811
    image = finished_image(video, "gif", status=AnimatedImage.Status.FAIL, error_code=code, error_message=message,
                           file="", size=0)
    Task.objects.filter(pk=image.task_id).update(result=Task.Result.FAIL, error_code=code, error_message=message)
    return AnimatedImage.objects.select_related("video", "task").get(pk=image.pk)


def test_a_time_range_failure_is_not_offered_a_retry_and_says_why(admin_client, video):  # noqa: F811
    image = failed(video, "InvalidTimeRange", "start_time_offset: past the end of the 10.0 s video")
    assert not can_retry(image) and "time range" in retry_refusal(image)
    page = admin_client.get(reverse("console-video-processing", args=[video.public_id])).content.decode()
    assert reverse("console-image-retry", args=[image.public_id]) not in page
    assert "No retry: retrying cannot help: the time range does not fit this video" in page
    detail = admin_client.get(reverse("console-task", args=[image.task.task_id])).content.decode()
    assert "Retry failed images" not in detail and "No retry" in detail

    # A forged POST does not rerun it either: status, attempts and times stay as they were.
    before = (image.status, image.attempts, image.finished_at)
    admin_client.post(reverse("console-image-retry", args=[image.public_id]))
    admin_client.post(reverse("console-task-retry", args=[image.task.task_id]))
    image.refresh_from_db()
    assert (image.status, image.attempts, image.finished_at) == before


def test_a_transient_failure_keeps_its_retry_button(admin_client, video):  # noqa: F811
    image = failed(video, "InternalError", "OSError: disk hiccup")
    assert can_retry(image)
    page = admin_client.get(reverse("console-video-processing", args=[video.public_id])).content.decode()
    assert reverse("console-image-retry", args=[image.public_id]) in page


def test_a_partly_failed_task_shows_one_outcome_and_the_library_a_hint(admin_client, video):  # noqa: F811
    image = failed(video, "InvalidTimeRange")
    Task.objects.filter(pk=image.task_id).update(status=Task.Status.FINISH)
    detail = admin_client.get(reverse("console-task", args=[image.task.task_id])).content.decode()
    assert ">Failed</span>" in detail and ">Finished</span>" not in detail
    overview = admin_client.get(reverse("console-home")).content.decode()
    assert ">Finished</span>" not in overview
    library = admin_client.get(reverse("console-library")).content.decode()
    assert "1 animated image failed" in library


def test_sizes_are_labelled_in_binary_units(admin_client, video):  # noqa: F811
    video.size = 12_045_651
    video.save(update_fields=["size"])
    page = admin_client.get(reverse("console-library")).content.decode()
    assert "11.5 MiB" in page and "11.5 MB" not in page
