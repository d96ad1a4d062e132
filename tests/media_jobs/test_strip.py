"""The player's strip of thumbnails: made by a job after READY, shown by the video page as tiles of
one small image (the browser no longer decodes the original to draw it), removed with the video."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from media_jobs.commands import videos as video_commands
from media_jobs.jobs.proxy import proxy_name
from media_jobs.jobs.strip import make_strip
from media_jobs.models import Video
from tests.clips import make_clip, make_text

pytestmark = pytest.mark.django_db(transaction=True)


def upload(path: Path) -> Video:
    with path.open("rb") as handle:
        return video_commands.create_video(File(handle, name=path.name), path.stem)


def tiles_on_page(client, video: Video) -> list[str]:
    html = client.get(reverse("console-video-processing", args=[video.public_id])).content.decode()
    return re.findall(r'class="strip-tile" data-at="([\d.]+)"', html)


def test_a_new_video_gets_its_strip_after_ready_and_the_page_shows_its_tiles(tmp_path, run_worker, media_root,
                                                                              admin_client):
    video = upload(make_clip(tmp_path / "harbour.mp4", seconds=4.0, fps=10, gop=10))
    run_worker()
    video.refresh_from_db()
    assert video.status == Video.Status.READY
    assert video.strip["times"] == [0.0, 1.0, 2.0, 3.0]
    assert (video.strip["tile_width"], video.strip["tile_height"]) == (144, 108)
    with default_storage.open(video.strip["name"]) as handle:
        assert Image.open(handle).size == (4 * 144, 108)

    assert tiles_on_page(admin_client, video) == ["0.000", "1.000", "2.000", "3.000"]
    html = admin_client.get(reverse("console-video", args=[video.public_id])).content.decode()
    url = re.search(r"background-image: url\('([^']+)'\)", html)[1]
    image = admin_client.get(url)
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"


def test_a_video_made_ready_before_strips_gets_one_when_its_page_is_shown(tmp_path, run_worker, media_root,
                                                                           admin_client):
    video = upload(make_clip(tmp_path / "harbour.mp4", seconds=3.0, fps=10, gop=10))
    run_worker()
    video.refresh_from_db()
    default_storage.delete(video.strip["name"])
    Video.objects.filter(pk=video.pk).update(strip={})

    assert tiles_on_page(admin_client, video) == []  # asks for one
    assert tiles_on_page(admin_client, video) == []  # already asked: queued once
    run_worker()
    assert tiles_on_page(admin_client, video) == ["0.000", "1.000", "2.000"]


def test_a_strip_that_cannot_be_made_is_recorded_and_not_asked_for_again(tmp_path, media_root, admin_client,
                                                                          redis_conn):
    notes = make_text(tmp_path / "notes.mp4")
    with notes.open("rb") as handle:
        video = Video(title="notes", status=Video.Status.READY)
        video.file.save("original.mp4", File(handle), save=False)
        video.save()
    assert make_strip(video.pk) == "failed"
    video.refresh_from_db()
    assert video.strip["error"] and video.strip["message"]
    assert tiles_on_page(admin_client, video) == []
    from media_jobs.jobs import queues
    assert queues.get_queue(queues.LIGHT).count == 0


def test_deleting_a_video_removes_its_strip_and_playable_copy(tmp_path, run_worker, media_root):
    video = upload(make_clip(tmp_path / "camera.avi", codec="mjpeg", container="avi", seconds=1.0, fps=10,
                             pix_fmt="yuvj422p"))
    run_worker()
    video.refresh_from_db()
    names = [video.file.name, video.cover_image.name, video.strip["name"], proxy_name(video)]
    assert all(default_storage.exists(name) for name in names)
    video_commands.delete_video(video)
    assert not any(default_storage.exists(name) for name in names)
