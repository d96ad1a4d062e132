"""Preview before saving (issue 15): a bounded render of the chosen template on the chosen range,
answered in the response with its size and a projected size; nothing is stored."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import pytest
from django.core.files import File
from django.urls import reverse
from PIL import Image

from media_jobs.encode import probe
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video
from tests.clips import make_clip

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip_video(tmp_path: Path, media_root: Path) -> Video:
    path = make_clip(tmp_path / "walk.mp4", width=854, height=480, seconds=6.0, fps=30)
    video = Video(title="Walk", status=Video.Status.READY, size=path.stat().st_size)
    video.apply_probe(probe(path))
    with path.open("rb") as handle:
        video.file.save("original.mp4", File(handle), save=False)
    video.save()
    return video


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_a_preview_of_a_preset_on_a_range_comes_back_with_its_sizes(admin_client, clip_video, media_root):
    before = files_under(media_root)
    template = AnimatedImageTemplate.objects.get(definition=20000)
    started = time.monotonic()
    response = admin_client.post(reverse("console-preview"), {
        "video": str(clip_video.public_id), "template": template.pk, "start_time_offset": "1", "end_time_offset": "5.5",
    })
    took = time.monotonic() - started
    assert response.status_code == 200, response.content
    body = response.json()
    header, data = body["image"].split(",", 1)
    with Image.open(io.BytesIO(base64.b64decode(data))) as im:
        assert im.format == "GIF" and im.n_frames > 5 and min(im.size) <= 480
    # The first 3 s of the range, not all 4.5 s; a projected size for the full range.
    assert (body["start"], body["end"], body["full_end"]) == (1.0, 4.0, 5.5)
    assert body["projected_size"] > body["size"] > 0 and body["size_label"].endswith(("KiB", "MiB"))
    assert took < 6, f"preview took {took:.1f} s"
    # Nothing stored: no file, no row.
    assert files_under(media_root) == before
    assert not AnimatedImage.objects.exists() and not Task.objects.exists()


def test_an_unsaved_template_form_previews_and_its_errors_come_back_by_field(admin_client, clip_video):
    url = reverse("console-preview")
    form = {"video": str(clip_video.public_id), "format": "webp", "width": "320", "fps": "8", "start": "0",
            "end": "2", "quality": "60", "colors": "256", "dither": "bayer", "palette_mode": "global",
            "scale_mode": "stretch", "loop": "0", "resolution_adaptive": "on", "height": "", "width_percent": "0",
            "height_percent": "0"}
    body = admin_client.post(url, form).json()
    assert body["image"].startswith("data:image/webp;base64,") and body["width"] == 320
    bad = admin_client.post(url, {**form, "fps": "500"})
    assert bad.status_code == 400 and "fps" in bad.json()["errors"]
    past_end = admin_client.post(url, {"video": str(clip_video.public_id),
                                       "template": AnimatedImageTemplate.objects.get(definition=20000).pk,
                                       "start_time_offset": "60"})
    assert past_end.status_code == 400 and "start_time_offset" in past_end.json()["errors"]


def test_the_processing_tab_without_a_checked_template_is_told_to_check_one(admin_client, clip_video):
    response = admin_client.post(reverse("console-preview"), {"video": str(clip_video.public_id), "template": ""})
    assert response.status_code == 400
    assert response.json()["errors"] == {"templates": ["MissingParameter: check a template to preview"]}
