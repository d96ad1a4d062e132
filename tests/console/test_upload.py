"""The minimal upload form: sign-in required, bad files are form errors beside the field."""

import pytest
from django.urls import reverse

from media_jobs.models import Task, Video

pytestmark = pytest.mark.django_db(transaction=True)


def test_pages_need_a_signed_in_user(client):
    for name in ("console-home", "console-upload"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("console-login"))


def test_the_sign_in_page_signs_an_operator_in(client, django_user_model):
    django_user_model.objects.create_user("op", password="correct horse battery")
    page = client.get(reverse("console-login"))
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    response = client.post(reverse("console-login"), {"username": "op", "password": "correct horse battery"})
    assert response.status_code == 302 and response["Location"] == reverse("console-home")


def test_a_text_file_named_mp4_is_refused_beside_the_field(admin_client, tmp_path):
    bogus = tmp_path / "holiday.mp4"
    bogus.write_text("not a video at all\n" * 100)
    with bogus.open("rb") as handle:
        response = admin_client.post(reverse("console-upload"), {"file": handle})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-file"' in html and "InvalidVideoFormat" in html
    assert not Video.objects.exists()


def test_an_audio_only_file_is_refused_as_having_no_video(admin_client):
    from pathlib import Path

    audio = Path("/work/shared/media/audio_only_aac_coremedia.m4a")
    if not audio.exists():
        pytest.skip("shared media not available")
    with audio.open("rb") as handle:
        response = admin_client.post(reverse("console-upload"), {"file": handle})
    assert response.status_code == 400 and "NoVideoStream" in response.content.decode()


def test_a_video_upload_is_stored_under_a_generated_name_and_titled_after_the_file(admin_client, small_clip, media_root):
    with small_clip.open("rb") as handle:
        response = admin_client.post(reverse("console-upload"), {"file": handle})
    video = Video.objects.get()
    assert response["Location"] == reverse("console-video", args=[video.public_id])
    assert video.title == "small" and video.original_filename == "small.mp4"
    assert video.file.name == f"videos/{video.public_id}/original.mp4"
    assert video.duration == pytest.approx(3.0, abs=0.1) and (video.width, video.height) == (320, 240)
    assert video.status == Video.Status.PROCESSING and not Task.objects.exists()
    home = admin_client.get(reverse("console-home"))
    assert "small" in home.content.decode()
