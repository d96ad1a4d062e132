"""M2: hostile upload names. A real clip uploaded through the console and the API under names that
try path traversal, NUL bytes, very long names, bidi tricks and HTML is stored under a generated
name inside MEDIA_ROOT, shown escaped everywhere it appears, and still processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from console.api.models import ApiKey
from media_jobs.models import (
    AnimatedImage,
    AnimatedImageTemplate,
    Task,
    Video,
    Workflow,
    WorkflowStep,
)
from tests.hardening.abuse_support import multipart, quoted

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
# (what the client sends after `name="file"; `, the title Loopdeck should show)
HOSTILE_NAMES = [
    (quoted("../../etc/passwd.mp4"), "passwd"),
    (quoted("..\\..\\x.mp4"), "x"),
    (quoted("%2e%2e%2fx.mp4"), "%2e%2e%2fx"),
    (b"filename*=UTF-8''..%2F..%2Fetc%2Fcron.d%2Fevil.mp4", "evil"),
    (b'filename="nul\x00byte.mp4"', "nulbyte"),
    (quoted("n" * 296 + ".mp4"), None),  # 300 characters: kept short enough to store
    (quoted("clip\u202egpj.mp4"), "clipgpj"),  # right-to-left override: shown as "clipjpg"
    (quoted("caf\u0065\u0301 \u200b\U0001f3ac \u05e9\u05dc\u05d5\u05dd.mp4"), "caf\u0065\u0301 \U0001f3ac \u05e9\u05dc\u05d5\u05dd"),
    (quoted("x\u202e4pm.html"), "x4pm"),  # a video dressed as a web page: stored without .html
    (quoted(IMG + ".mp4"), IMG),
    (quoted("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;.mp4"), None),  # Django unescapes entities
]
PAYLOADS = [SCRIPT, "<img src=x onerror=alert(1)>"]


def _post_console(client: Client, disposition: bytes, content: bytes, title: str = "", workflow: str = ""):
    body, content_type = multipart(disposition, content, {"title": title, "workflow": workflow})
    return client.post(reverse("console-upload"), body, content_type=content_type)


def _post_api(client: Client, token: str, disposition: bytes, content: bytes, title: str | None = None):
    body, content_type = multipart(disposition, content, {} if title is None else {"title": title})
    return client.post("/api/v1/videos", body, content_type=content_type, headers={"Authorization": f"Bearer {token}"})


def _assert_stored_safely(video: Video, media_root: Path, content: bytes) -> None:
    """A generated name under MEDIA_ROOT: nothing the uploader typed reaches the path."""
    ext = Path(video.file.name).suffix
    assert video.file.name == f"videos/{video.public_id}/original{ext}" and ext in ("", ".mp4"), video.file.name
    real = Path(os.path.realpath(video.file.path))
    assert real.is_relative_to(Path(os.path.realpath(media_root))) and real.read_bytes() == content
    assert not any(c in video.title for c in "\x00\u202e\u200b/\\"), repr(video.title)
    assert len(video.title) <= 255 and len(video.original_filename) <= 255


def _assert_escaped(html: str) -> None:
    for payload in PAYLOADS:
        assert payload not in html, f"raw {payload!r} in the page"


def test_hostile_file_names_through_the_console_are_stored_under_generated_names(admin_client, small_clip, media_root):
    content = small_clip.read_bytes()
    for disposition, title in HOSTILE_NAMES:
        response = _post_console(admin_client, disposition, content)
        assert response.status_code == 302, (disposition, response.content[:500])
        video = Video.objects.get(public_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])
        _assert_stored_safely(video, media_root, content)
        if title is not None:
            assert video.title == title, (disposition, video.title)
    # Nothing was written anywhere else: every file under MEDIA_ROOT belongs to an upload.
    stored = {str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()}
    assert stored == {v.file.name for v in Video.objects.all()}
    assert Video.objects.count() == len(HOSTILE_NAMES)


def test_hostile_file_names_and_titles_through_the_api(small_clip, media_root):
    _, token = ApiKey.issue("abuse")
    content = small_clip.read_bytes()
    client = Client()
    for disposition, title in HOSTILE_NAMES:
        response = _post_api(client, token, disposition, content)
        assert response.status_code == 201, (disposition, response.content[:500])
        body = response.json()
        video = Video.objects.get(public_id=body["id"])
        _assert_stored_safely(video, media_root, content)
        if title is not None:
            assert body["title"] == video.title == title
    # Titles given explicitly: HTML kept as text, controls (NUL breaks PostgreSQL) and bidi removed.
    for sent, kept in [(SCRIPT, SCRIPT), ("bad\x00title\u202e", "badtitle"), ("a\tb\nc", "a b c")]:
        response = _post_api(client, token, quoted("clip.mp4"), content, title=sent)
        assert response.status_code == 201, response.content
        assert response.json()["title"] == kept
        assert response["Content-Type"].startswith("application/json") and response["X-Content-Type-Options"] == "nosniff"


def test_html_in_names_and_titles_is_shown_as_text_and_the_video_still_processes(admin_client, small_clip, run_worker):
    template = AnimatedImageTemplate.objects.create(name="abuse gif", format="gif", width=96, fps=5, duration=1)
    workflow = Workflow.objects.create(name=SCRIPT)  # operator-typed text is escaped too
    WorkflowStep.objects.create(workflow=workflow, position=0, template=template)
    content = small_clip.read_bytes()
    _post_console(admin_client, quoted(IMG + ".mp4"), content, workflow=str(workflow.pk))
    _post_console(admin_client, quoted("clip.mp4"), content, title=SCRIPT, workflow=str(workflow.pk))
    run_worker()
    videos = list(Video.objects.order_by("created_at"))
    assert [v.title for v in videos] == [IMG, SCRIPT]
    for video in videos:
        assert video.status == Video.Status.READY and video.cover_image, video.error_message
        task = Task.objects.get(video=video)
        assert (task.status, task.result) == (Task.Status.FINISH, Task.Result.SUCCESS), task.error_message
        assert AnimatedImage.objects.get(task=task).file

    pages = [reverse("console-library"), reverse("console-home"), reverse("console-tasks"),
             reverse("console-workflows")]
    for video in videos:
        pages += [reverse(name, args=[video.public_id]) for name in
                  ("console-video", "console-video-processing", "console-video-images", "console-video-delete")]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        _assert_escaped(response.content.decode())
    library = admin_client.get(reverse("console-library")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in library
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in library  # also inside alt="Cover of …"
    # The flash message after an upload names the title: escaped as well.
    response = _post_console(admin_client, quoted("clip.mp4"), content, title=SCRIPT)
    _assert_escaped(admin_client.get(response["Location"]).content.decode())


def test_the_upload_script_gets_json_it_can_only_show_as_text(admin_client, small_clip):
    body, content_type = multipart(quoted(IMG + ".mp4"), small_clip.read_bytes())
    response = admin_client.post(reverse("console-upload"), body, content_type=content_type,
                                 headers={"Accept": "application/json"})
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/json") and response["X-Content-Type-Options"] == "nosniff"
    assert response.json()["title"] == IMG


def test_a_nul_character_in_any_text_field_is_a_named_400_not_a_server_error(admin_client, small_clip):
    """PostgreSQL can neither store nor compare U+0000: these were 500s there."""
    _, token = ApiKey.issue("abuse")
    api = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {token}"})
    body, content_type = multipart(quoted("clip.mp4"), small_clip.read_bytes())
    video_id = api.post("/api/v1/videos", body, content_type=content_type).json()["id"]
    attempts = [
        api.get("/api/v1/videos", {"search": "x\x00"}),
        api.patch(f"/api/v1/videos/{video_id}", {"title": "x\x00"}, content_type="application/json"),
        api.post("/api/v1/workflows", {"name": "w\x00", "steps": [{"definition": 20000}]},
                 content_type="application/json"),
    ]
    for response, field in zip(attempts, ["search", "title", "name"], strict=True):
        assert response.status_code == 400, response.content
        assert (response.json()["code"], response.json()["field"]) == ("InvalidParameter", field)
    assert Video.objects.get(public_id=video_id).title == "clip" and not Workflow.objects.exists()
    page = admin_client.get(reverse("console-library"), {"q": "x\x00"})
    assert page.status_code == 400 and b"NUL" in page.content
