"""The player's playable copy (issue 15): sources browsers cannot play get an H.264/AAC MP4 of at
most 720 lines from a job queued after READY; the player streams it with byte ranges."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.urls import reverse

from media_jobs.commands import videos as video_commands
from media_jobs.models import Video
from media_jobs.jobs.proxy import browser_playable, playable_name, proxy_name
from tests.clips import make_clip

pytestmark = pytest.mark.django_db(transaction=True)


def upload(path: Path) -> Video:
    with path.open("rb") as handle:
        return video_commands.create_video(File(handle, name=path.name), path.stem)


def test_an_mjpeg_upload_is_ready_first_then_gets_a_playable_copy(tmp_path, run_worker, media_root, admin_client):
    clip = make_clip(tmp_path / "camera.avi", codec="mjpeg", container="avi", width=1280, height=960,
                     seconds=1.0, fps=10, pix_fmt="yuvj422p", audio=True)
    video = upload(clip)
    run_worker()
    video.refresh_from_db()
    assert video.status == Video.Status.READY
    assert not browser_playable(video.media_info)
    name = proxy_name(video)
    assert default_storage.exists(name) and playable_name(video) == name
    with av.open(default_storage.path(name)) as proxy:
        stream = proxy.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (stream.codec_context.width, stream.codec_context.height) == (960, 720)
        assert [s.codec_context.name for s in proxy.streams.audio] == ["aac"]

    url = reverse("console-video-play", args=[video.public_id])
    whole = admin_client.get(url)
    assert whole.status_code == 200 and whole["Content-Type"] == "video/mp4"
    size = int(whole["Content-Length"])
    part = admin_client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{size}"
    assert len(b"".join(part.streaming_content)) == 100
    assert admin_client.get(url, HTTP_RANGE=f"bytes={size + 5}-").status_code == 416


def test_a_playable_upload_plays_as_it_is(small_clip, run_worker, media_root, client):
    video = upload(small_clip)
    run_worker()
    video.refresh_from_db()
    assert browser_playable(video.media_info) and playable_name(video) == video.file.name
    assert not default_storage.exists(proxy_name(video))
    # Signed-in operators only.
    assert client.get(reverse("console-video-play", args=[video.public_id])).status_code == 302
