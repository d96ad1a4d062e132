"""The library and the task list stay a handful of queries at 10,000 rows (no N+1)."""

import pytest
from django.urls import reverse

from media_jobs.models import AnimatedImage, Task, Video

pytestmark = pytest.mark.django_db

ROWS = 10_000


def fill(rows: int = ROWS) -> None:
    """`rows` videos, each with a finished task and an animated image (the library counts them)."""
    videos = Video.objects.bulk_create(
        Video(title=f"clip {n:05d}", file=f"videos/{n}/original.mp4", status=Video.Status.READY, duration=n % 60,
              width=1280, height=720, size=1_000_000 + n)
        for n in range(rows)
    )
    tasks = Task.objects.bulk_create(Task(video=v, status=Task.Status.FINISH, result=Task.Result.SUCCESS) for v in videos)
    AnimatedImage.objects.bulk_create(
        AnimatedImage(task=t, video_id=t.video_id, definition=20000, template_name="GIF", params={},
                      status=AnimatedImage.Status.SUCCESS, file=f"videos/{t.video_id}/animated/x.gif", container="gif")
        for t in tasks
    )


def test_the_library_and_the_task_list_are_a_few_queries_at_ten_thousand_rows(
    admin_client, django_assert_max_num_queries
):
    fill()  # once: filling 30,000 rows is most of this test's time
    for params in ({}, {"q": "clip 09"}, {"status": "READY", "sort": "-duration", "page": 7}):
        with django_assert_max_num_queries(6):
            response = admin_client.get(reverse("console-library"), params)
        html = response.content.decode()
        assert html.count('class="status ready"') == 25, params
        assert html.count('animated-images/">1</a>') == 25  # each row counts its animated image
    with django_assert_max_num_queries(5):
        response = admin_client.get(reverse("console-tasks"), {"status": "FINISH", "page": 3})
    assert "10000 in all" in response.content.decode()
