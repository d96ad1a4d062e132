"""Every console page: sign-in required, errors beside fields, redirects, rows saved."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.urls import reverse

from media_jobs.commands import tasks as task_commands
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video, Workflow, WorkflowStep

pytestmark = pytest.mark.django_db


@pytest.fixture
def video() -> Video:
    return Video.objects.create(title="Holiday", file="videos/x/original.mp4", status=Video.Status.READY,
                                duration=10.0, width=640, height=360, size=123456, container="mov,mp4")


def finished_image(video: Video, fmt: str = "webp", **extra) -> AnimatedImage:
    template = AnimatedImageTemplate.objects.get(definition=20001 if fmt == "webp" else 20000)
    task = Task.objects.create(video=video, status=Task.Status.FINISH, result=Task.Result.SUCCESS)
    fields = dict(status=AnimatedImage.Status.SUCCESS, container=fmt, width=320, height=180, frames=20, fps=10,
                  duration=2.0, size=2048, start_offset=1.0, end_offset=3.0, progress=100,
                  file=f"videos/{video.public_id}/animated/{uuid.uuid4()}.{fmt}")
    fields.update(extra)
    return AnimatedImage.objects.create(task=task, video=video, definition=template.definition,
                                        template_name=template.name, params=template.params(), **fields)


PAGES = [
    ("console-home", []), ("console-library", []), ("console-upload", []), ("console-templates", []),
    ("console-template-create", []), ("console-presets", []), ("console-workflows", []),
    ("console-workflow-create", []), ("console-tasks", []),
]


@pytest.mark.parametrize("name, args", PAGES)
def test_every_page_needs_a_signed_in_user_and_renders_for_one(client, admin_client, name, args):
    url = reverse(name, args=args)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("console-login"))
    response = admin_client.get(url)
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()  # the sign-out form at least


def test_video_pages_need_a_signed_in_user(client, admin_client, video):
    for name in ("console-video", "console-video-processing", "console-video-images", "console-video-status"):
        url = reverse(name, args=[video.public_id])
        assert client.get(url).status_code == 302
        assert admin_client.get(url).status_code == 200
    assert admin_client.get(reverse("console-video", args=[uuid.uuid4()])).status_code == 404


def test_state_changing_actions_refuse_get_and_anonymous_posts(client, admin_client, video):
    image = finished_image(video)
    url = reverse("console-image-cover", args=[image.public_id])
    assert admin_client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    video.refresh_from_db()
    assert video.cover_animated_id is None


def test_the_overview_counts_tasks_and_reports_workers(admin_client, video):
    Task.objects.create(video=video, status=Task.Status.WAITING)
    Task.objects.create(video=video, status=Task.Status.FINISH, result=Task.Result.FAIL,
                        finished_at=video.created_at)
    page = admin_client.get(reverse("console-home")).content.decode()
    assert "task waiting" in page and "failed in the last 24 h" in page  # one task: singular
    assert 'id="workers-alive">0<' in page and "nothing will be processed" in page
    assert reverse("admin:django_rq_home") in page  # staff see the RQ dashboard link


def test_the_library_searches_filters_sorts_and_paginates(admin_client):
    for n in range(30):
        Video.objects.create(title=f"clip {n:02d}", file=f"videos/{n}/o.mp4", duration=n, status=Video.Status.READY)
    Video.objects.create(title="broken upload", file="videos/b/o.mp4", status=Video.Status.FAILED)
    first = admin_client.get(reverse("console-library")).content.decode()
    assert "Page 1 of 2" in first and "31 in all" in first
    found = admin_client.get(reverse("console-library"), {"q": "BROKEN"}).content.decode()
    assert "broken upload" in found and "clip 01" not in found
    failed = admin_client.get(reverse("console-library"), {"status": "FAILED"}).content.decode()
    assert "broken upload" in failed and "clip 00" not in failed
    longest = admin_client.get(reverse("console-library"), {"sort": "-duration"}).content.decode()
    assert longest.index("clip 29") < longest.index("clip 28")
    page2 = admin_client.get(reverse("console-library"), {"sort": "-duration", "page": 2}).content.decode()
    assert "sort=-duration&amp;page=1" in page2  # pager links keep the filters
    empty = admin_client.get(reverse("console-library"), {"q": "nothing like this"}).content.decode()
    assert "No video matches these filters" in empty


def test_an_invalid_template_shows_the_error_beside_the_field_and_keeps_what_was_typed(admin_client):
    response = admin_client.post(reverse("console-template-create"),
                                 {"name": "Hover", "format": "webp", "fps": "99", "width": "480"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-fps"' in html and "Must be between 1 and 60." in html
    assert 'value="Hover"' in html and 'value="480"' in html and 'value="99"' in html
    assert not AnimatedImageTemplate.objects.filter(name="Hover").exists()


def test_a_valid_template_is_saved_as_custom(admin_client):
    response = admin_client.post(reverse("console-template-create"),
                                 {"name": "Hover", "format": "webp", "fps": "12", "width": "480", "duration": "3"})
    assert response.status_code == 302
    template = AnimatedImageTemplate.objects.get(name="Hover")
    assert (template.kind, template.fps, template.width, template.duration) == ("Custom", 12, 480, 3)
    listing = admin_client.get(reverse("console-templates") + "?type=custom").content.decode()
    assert str(template.definition) in listing and "Hover" in listing


def test_presets_are_listed_read_only_and_can_be_copied(admin_client):
    listing = admin_client.get(reverse("console-templates") + "?type=preset").content.decode()
    assert "20000" in listing and reverse("console-template-edit", args=[20000]) not in listing
    edit = admin_client.get(reverse("console-template-edit", args=[20000]))
    assert edit["Location"] == reverse("console-template-copy", args=[20000])
    response = admin_client.post(reverse("console-template-copy", args=[20001]), {"name": "My WebP"})
    copy = AnimatedImageTemplate.objects.get(name="My WebP")
    assert response["Location"] == reverse("console-template-edit", args=[copy.definition])
    assert copy.kind == "Custom" and copy.format == "webp" and copy.fps == 2
    catalog = admin_client.get(reverse("console-presets")).content.decode()
    assert "Tencent VOD preset 20000" in catalog


def test_deleting_a_template_asks_first_and_is_refused_while_a_workflow_uses_it(admin_client):
    template = AnimatedImageTemplate.objects.create(name="In use")
    workflow = Workflow.objects.create(name="Social")
    WorkflowStep.objects.create(workflow=workflow, position=0, template=template)
    url = reverse("console-template-delete", args=[template.definition])
    refused = admin_client.post(url, follow=True).content.decode()
    assert "cannot be deleted" in refused and "Social" in refused
    assert AnimatedImageTemplate.objects.filter(pk=template.pk).exists()
    workflow.delete()
    confirm = admin_client.get(url).content.decode()
    assert "Delete template" in confirm and "cannot be undone" in confirm
    assert AnimatedImageTemplate.objects.filter(pk=template.pk).exists()
    admin_client.post(url)
    assert not AnimatedImageTemplate.objects.filter(pk=template.pk).exists()


def test_a_workflow_is_saved_with_its_ordered_steps(admin_client):
    response = admin_client.post(reverse("console-workflow-create"), {
        "name": "Previews", "comment": "",
        "step_template": ["20002", "20003", ""], "step_start": ["", "-4", ""], "step_end": ["", "-1", ""],
    })
    assert response.status_code == 302
    workflow = Workflow.objects.get(name="Previews")
    steps = list(workflow.steps.order_by("position"))
    assert [s.template.definition for s in steps] == [20002, 20003]
    assert (steps[1].start_time_offset, steps[1].end_time_offset) == (-4, -1)
    edit = admin_client.get(reverse("console-workflow-edit", args=[workflow.public_id])).content.decode()
    assert 'value="-4"' in edit


def test_a_bad_workflow_step_is_marked_on_its_row(admin_client):
    response = admin_client.post(reverse("console-workflow-create"), {
        "name": "Bad", "step_template": ["20002"], "step_start": ["4"], "step_end": ["2"],
    })
    assert response.status_code == 400
    html = response.content.decode()
    assert "Fix the steps marked below." in html and "must be after the start" in html
    assert not Workflow.objects.filter(name="Bad").exists()


@pytest.mark.django_db(transaction=True)
def test_processing_checks_offsets_against_the_video_and_starts_a_task(admin_client, video, redis_conn):
    url = reverse("console-video-processing", args=[video.public_id])
    template = AnimatedImageTemplate.objects.get(definition=20002)
    late = admin_client.post(url, {"templates": [template.pk], "start_time_offset": "12"})
    assert late.status_code == 400
    html = late.content.decode()
    assert 'id="error-start_time_offset"' in html and "past the end of the video" in html
    assert not Task.objects.exists()

    ok = admin_client.post(url, {"templates": [template.pk], "start_time_offset": "2", "end_time_offset": "4"})
    assert ok.status_code == 302
    task = Task.objects.get()
    image = task.outputs.get()
    assert task.origin == Task.Origin.CONSOLE and (image.start_time_offset, image.end_time_offset) == (2, 4)
    assert redis_conn.llen("rq:queue:encode") == 1  # queued for a worker once committed
    status = admin_client.get(reverse("console-video-status", args=[video.public_id])).json()
    assert status["tasks"][0]["outputs"][0] == {"id": str(image.public_id), "status": "WAITING", "progress": 0,
                                                "error_code": "", "error_message": ""}


def test_processing_needs_templates_or_a_workflow_but_not_both(admin_client, video):
    url = reverse("console-video-processing", args=[video.public_id])
    none = admin_client.post(url, {}).content.decode()
    assert 'id="error-templates"' in none and "Choose at least one template or a workflow." in none
    workflow = Workflow.objects.create(name="wf")
    WorkflowStep.objects.create(workflow=workflow, position=0, template=AnimatedImageTemplate.objects.get(definition=20000))
    both = admin_client.post(url, {"templates": [1], "workflow": workflow.pk}).content.decode()
    assert "not both" in both


def test_the_animated_images_tab_offers_download_embed_cover_and_delete(admin_client, video):
    webp = finished_image(video, "webp")
    gif = finished_image(video, "gif")
    page = admin_client.get(reverse("console-video-images", args=[video.public_id])).content.decode()
    assert page.count('class="card image-card"') == 2
    assert f'src="{webp.file.url}"' in page and "download" in page
    webp_card = page.split(f'data-image="{webp.public_id}"')[1]
    snippet = webp_card.split("data-embed>")[1].split("</textarea>")[0]
    # Absolute (pasted on another site), with the GIF of the same moment as fallback.
    assert snippet.startswith("<picture>") and f'srcset="{settings.PUBLIC_BASE_URL}{webp.file.url}"' in snippet
    assert f'<img src="{settings.PUBLIC_BASE_URL}{gif.file.url}"' in snippet
    assert "Current cover" not in page

    admin_client.post(reverse("console-image-cover", args=[gif.public_id]))
    video.refresh_from_db()
    assert video.cover_animated_id == gif.pk
    page = admin_client.get(reverse("console-video-images", args=[video.public_id])).content.decode()
    assert page.count("Current cover") == 1
    library = admin_client.get(reverse("console-library")).content.decode()
    assert gif.file.url in library  # the library thumbnail is now the animated cover

    confirm = admin_client.get(reverse("console-image-delete", args=[gif.public_id])).content.decode()
    assert "still cover takes its place" in confirm
    admin_client.post(reverse("console-image-delete", args=[gif.public_id]))
    video.refresh_from_db()
    assert video.cover_animated_id is None and not AnimatedImage.objects.filter(pk=gif.pk).exists()


def test_a_failed_output_shows_its_error_and_can_be_retried(admin_client, video, redis_conn):
    # A failure a rerun can fix (the worker died); input failures get no Retry (test_retry_rules).
    image = finished_image(video, status=AnimatedImage.Status.FAIL, error_code="WorkerLost",
                           error_message="the worker stopped during the render", file="")
    Task.objects.filter(pk=image.task_id).update(result=Task.Result.FAIL, error_code="WorkerLost")
    page = admin_client.get(reverse("console-video-processing", args=[video.public_id])).content.decode()
    assert "WorkerLost: the worker stopped during the render" in page
    assert reverse("console-image-retry", args=[image.public_id]) in page
    admin_client.post(reverse("console-image-retry", args=[image.public_id]))
    image.refresh_from_db()
    assert image.status == AnimatedImage.Status.WAITING and image.error_code == ""


def test_the_task_list_filters_and_the_detail_page_retries_and_aborts(admin_client, video):
    other = Video.objects.create(title="Other", file="videos/o/o.mp4", status=Video.Status.READY, duration=5)
    template = AnimatedImageTemplate.objects.get(definition=20000)
    waiting = task_commands.submit_task(video, [task_commands.StepRequest(template)])
    task_commands.submit_task(other, [task_commands.StepRequest(template)])
    listing = admin_client.get(reverse("console-tasks"), {"video": str(video.public_id)}).content.decode()
    assert str(waiting.task_id)[:10] in listing and "Other" not in listing.split("<tbody>")[1]
    assert admin_client.get(reverse("console-tasks"), {"status": "FINISH"}).content.decode().count("<tr>") == 0

    detail = admin_client.get(reverse("console-task", args=[waiting.task_id])).content.decode()
    assert "Abort" in detail and template.name in detail
    admin_client.post(reverse("console-task-abort", args=[waiting.task_id]))
    waiting.refresh_from_db()
    assert waiting.status == Task.Status.ABORTED


def test_a_video_can_be_renamed_and_deleted_after_confirmation(admin_client, video):
    admin_client.post(reverse("console-video-rename", args=[video.public_id]), {"title": "Summer 2026"})
    video.refresh_from_db()
    assert video.title == "Summer 2026"
    confirm = admin_client.get(reverse("console-video-delete", args=[video.public_id])).content.decode()
    assert "Summer 2026" in confirm and "cannot be undone" in confirm
    response = admin_client.post(reverse("console-video-delete", args=[video.public_id]))
    assert response["Location"] == reverse("console-library")
    assert not Video.objects.filter(pk=video.pk).exists()


def test_titles_are_escaped_everywhere(admin_client):
    Video.objects.create(title='<script>alert("x")</script>', file="videos/e/o.mp4", status=Video.Status.READY)
    page = admin_client.get(reverse("console-library")).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
