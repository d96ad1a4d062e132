"""M10: how media is served when Loopdeck serves it itself (SERVE_MEDIA, the local default).

Outputs are images with their own types and nosniff; originals are downloads with an
allow-listed type and a safe file name; an HTML polyglot uploaded as a video is never served as
a page; only signed-in operators and API keys get media at all."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from console.api.models import ApiKey
from media_jobs.models import (
    AnimatedImage,
    AnimatedImageTemplate,
    Video,
    Workflow,
    WorkflowStep,
)
from tests.hardening.abuse_support import multipart, quoted

pytestmark = pytest.mark.django_db(transaction=True)

HTML = b"<!doctype html><html><body><script>document.title='pwned'</script></body></html>\n"


def _upload(client: Client, name: str, content: bytes, workflow: Workflow | None = None) -> Video:
    body, content_type = multipart(quoted(name), content, {"workflow": str(workflow.pk) if workflow else ""})
    response = client.post(reverse("console-upload"), body, content_type=content_type)
    assert response.status_code == 302, response.content[:300]
    return Video.objects.get(public_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])


def _assert_hardened(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert "html" not in response["Content-Type"] and "svg" not in response["Content-Type"]


def test_outputs_are_images_and_originals_are_downloads(admin_client, small_clip, run_worker):
    workflow = Workflow.objects.create(name="both formats")
    for position, fmt in enumerate(("gif", "webp")):
        template = AnimatedImageTemplate.objects.create(name=f"tiny {fmt}", format=fmt, width=96, fps=5, duration=1)
        WorkflowStep.objects.create(workflow=workflow, position=position, template=template)
    video = _upload(admin_client, 'holiday "2024".mp4', small_clip.read_bytes(), workflow)
    run_worker()
    outputs = {image.container: image for image in AnimatedImage.objects.filter(video=video)}
    video.refresh_from_db()
    assert set(outputs) == {"gif", "webp"} and video.cover_image

    for container, content_type in (("gif", "image/gif"), ("webp", "image/webp")):
        response = admin_client.get(outputs[container].file.url)
        assert response.status_code == 200 and response["Content-Type"] == content_type
        # Shown inline, in <img> and embeds.
        assert response.get("Content-Disposition", "inline").startswith("inline")
        _assert_hardened(response)
    cover = admin_client.get(video.cover_image.url)
    assert cover["Content-Type"] == "image/jpeg"
    _assert_hardened(cover)

    original = admin_client.get(video.file.url)
    assert original.status_code == 200 and original["Content-Type"] == "video/mp4"
    assert original["Content-Disposition"] == 'attachment; filename="holiday \\"2024\\".mp4"'
    assert b"".join(original.streaming_content) == small_clip.read_bytes()
    _assert_hardened(original)


def test_an_html_polyglot_is_never_served_as_a_page(admin_client, small_clip):
    """A real MP4 (it probes fine) that is also an HTML document, under names that invite a
    browser to render it; and a file stored as .html before names were allow-listed."""
    polyglot = small_clip.read_bytes() + HTML
    for name in ("page.html", "page.svg", "page.mp4", "page\u202elmth.mp4"):
        video = _upload(admin_client, name, polyglot)
        assert not video.file.name.endswith((".html", ".svg", ".htm", "lmth"))
        response = admin_client.get(video.file.url)
        assert response.status_code == 200
        assert response["Content-Type"] in ("video/mp4", "application/octet-stream")
        assert response["Content-Disposition"].startswith("attachment;")
        _assert_hardened(response)
    legacy = Video.objects.create(title="legacy", original_filename="x.html")
    legacy.file.save("x.html", ContentFile(polyglot), save=True)
    legacy.file.storage.save(f"videos/{legacy.public_id}/original.html", ContentFile(polyglot))
    response = admin_client.get(f"/media/videos/{legacy.public_id}/original.html")
    assert response.status_code == 200 and response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="x.html"'
    _assert_hardened(response)


def test_a_hostile_original_name_cannot_inject_headers(admin_client, media_root):
    video = Video.objects.create(title="x", original_filename='evil"\r\nSet-Cookie: pwned=1\r\n.mp4')
    video.file.save("clip.mp4", ContentFile(b"\x00" * 64), save=True)
    response = admin_client.get(video.file.url)
    assert response.status_code == 200 and "pwned" not in response.cookies
    assert response["Content-Disposition"] == 'attachment; filename="evil\\"Set-Cookie: pwned=1.mp4"'


def test_media_needs_a_signed_url_an_api_key_or_a_signed_in_operator(admin_client, media_root):
    video = Video.objects.create(title="x", original_filename="clip.mp4")
    video.file.save("clip.mp4", ContentFile(b"\x00" * 64), save=True)
    handed_out = video.file.url  # what the API, event payloads and the console give out
    path, _, signature = handed_out.partition("?sig=")
    assert Client().get(handed_out).status_code == 200
    # Knowing the video's id (so the path) is not enough; nor is another file's signature.
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("console-login"))
    other = Video.objects.create(title="y", original_filename="y.mp4")
    other.file.save("y.mp4", ContentFile(b"\x00" * 64), save=True)
    for forged in (f"{path}?sig={other.file.url.partition('?sig=')[2]}", f"{path}?sig={signature[:-1]}x",
                   f"{path}?sig="):
        assert Client().get(forged).status_code == 403, forged
    url = path
    key, token = ApiKey.issue("media")
    assert Client().get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    key.revoke()
    refused = Client().get(url, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.json()["code"] == "Unauthorized"
    assert admin_client.get(url).status_code == 200


def test_no_path_leaves_media_root_and_partial_files_stay_hidden(admin_client, media_root, settings):
    (media_root / "videos").mkdir()
    (media_root / "videos" / ".partial-abc123").write_bytes(b"half a gif")
    (media_root.parent / "secret.txt").write_text("outside MEDIA_ROOT")
    for path in ("videos/.partial-abc123", "videos/%2e%2e/%2e%2e/secret.txt", "..%2fsecret.txt",
                 "videos/..%2f..%2fsecret.txt", "%2fetc%2fpasswd", "videos/"):
        response = admin_client.get(settings.MEDIA_URL + path)
        assert response.status_code == 404, (path, response.status_code)
