"""Videos through the API with real clips, a real Redis and the in-process worker: upload, URL
import from a local HTTP server, metadata, list, rename, cover, delete."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from media_jobs.models import Task, Video
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db(transaction=True)


def upload(api, clip: Path, **fields):  # noqa: ANN001, ANN201
    with clip.open("rb") as handle:
        return api.upload("/api/v1/videos", {"file": handle, **fields})


@pytest.fixture
def gif_template(api) -> int:  # noqa: ANN001
    return api.post("/api/v1/templates", {"name": "gif 160", "width": 160, "fps": 10, "duration": 1}).json()["definition"]


def test_an_upload_is_probed_stored_and_prepared(api, small_clip, run_worker) -> None:  # noqa: ANN001
    response = upload(api, small_clip, title="Sunset")
    assert response.status_code == 201
    video = response.json()
    assert (video["title"], video["status"], video["original_filename"]) == ("Sunset", "PROCESSING", small_clip.name)
    # Probed at upload: the metadata is there before the worker runs, in Tencent's names.
    meta = video["metadata"]
    assert (meta["Width"], meta["Height"]) == (320, 240) and meta["Duration"] == pytest.approx(3.0, abs=0.1)
    assert meta["VideoStreamSet"][0]["Codec"] == "h264" and meta["AudioStreamSet"]
    assert set(meta) >= {"Size", "Container", "Bitrate", "Rotate", "VideoDuration", "AudioDuration"}
    run_worker()
    ready = api.get(f"/api/v1/videos/{video['id']}").json()
    assert ready["status"] == "READY" and ready["cover_url"].startswith("http://testserver/media/")
    assert api.client.get(ready["cover_url"]).status_code == 200


def test_files_that_are_not_videos_are_named_400s(api, tmp_path: Path) -> None:  # noqa: ANN001
    junk = tmp_path / "notes.mp4"
    junk.write_bytes(b"this is not a video at all" * 50)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert_error(upload(api, junk), 400, "InvalidVideoFormat", "file")
    assert upload(api, empty).json()["code"] in ("EmptyFile", "InvalidVideoFormat")
    assert_error(api.upload("/api/v1/videos", {"title": "no file"}), 400, "MissingParameter", "file")
    assert not Video.objects.exists()


def test_an_upload_over_the_size_limit_is_413(api, small_clip, settings) -> None:  # noqa: ANN001
    settings.MAX_UPLOAD_SIZE = 10_000
    assert_error(upload(api, small_clip), 413, "FileTooLarge", "file")
    settings.MAX_UPLOAD_SIZE = 10
    # Far over: refused from Content-Length, before the body is read.
    assert_error(upload(api, small_clip), 413, "FileTooLarge")
    assert not Video.objects.exists()


def test_an_upload_with_a_workflow_makes_its_task(api, small_clip, gif_template, run_worker) -> None:  # noqa: ANN001
    wf = api.post("/api/v1/workflows", {"name": "on upload", "steps": [{"definition": gif_template}]}).json()
    video = upload(api, small_clip, workflow_id=wf["id"]).json()
    assert video["workflow_id"] == wf["id"]
    assert_error(upload(api, small_clip, workflow_id="7b0b2c51-9d3e-4a53-8f3c-8c3e7e0e1d11"), 404,
                 "ResourceNotFound", "workflow_id")
    run_worker()
    tasks = api.get("/api/v1/tasks", {"video_id": video["id"]}).json()
    assert tasks["total_count"] == 1
    task = tasks["items"][0]
    assert (task["origin"], task["status"], task["result"]) == ("UPLOAD", "FINISH", "SUCCESS")


def test_list_searches_filters_sorts_and_pages(api, small_clip, run_worker) -> None:  # noqa: ANN001
    for title in ("Beach day", "beach night", "Mountain"):
        assert upload(api, small_clip, title=title).status_code == 201
    run_worker()
    found = api.get("/api/v1/videos", {"search": "beach", "sort": "title"}).json()
    assert found["total_count"] == 2 and [v["title"] for v in found["items"]] == ["Beach day", "beach night"]
    assert api.get("/api/v1/videos", {"status": "READY", "limit": 1, "offset": 2}).json()["items"][0]["title"] == "Beach day"
    assert api.get("/api/v1/videos", {"status": "FAILED"}).json()["total_count"] == 0
    assert api.get("/api/v1/videos", {"created_after": "2100-01-01T00:00:00Z"}).json()["total_count"] == 0
    assert_error(api.get("/api/v1/videos", {"status": "DONE"}), 400, "InvalidParameter", "status")
    assert_error(api.get("/api/v1/videos", {"sort": "colour"}), 400, "InvalidParameter", "sort")
    assert_error(api.get("/api/v1/videos", {"created_after": "yesterday"}), 400, "InvalidParameter", "created_after")


def test_rename_cover_and_delete(api, small_clip, gif_template, run_worker, media_root: Path) -> None:  # noqa: ANN001
    video = upload(api, small_clip).json()
    vid = video["id"]
    assert api.patch(f"/api/v1/videos/{vid}", {"title": "  New name "}).json()["title"] == "New name"
    assert_error(api.patch(f"/api/v1/videos/{vid}", {"title": " "}), 400, "MissingParameter", "title")
    assert_error(api.patch(f"/api/v1/videos/{vid}", {"title": "x" * 256}), 400, "InvalidParameter", "title")
    task = api.post("/api/v1/tasks", {"video_id": vid, "animated_graphic_task_set": [{"definition": gif_template}]}).json()
    image_id = task["animated_graphic_task_set"][0]["id"]
    # Not finished yet: it cannot be the cover.
    assert_error(api.put(f"/api/v1/videos/{vid}/cover", {"animated_image_id": image_id}), 409, "Conflict",
                 "animated_image_id")
    run_worker()
    static_cover = api.get(f"/api/v1/videos/{vid}").json()["cover_url"]
    covered = api.put(f"/api/v1/videos/{vid}/cover", {"animated_image_id": image_id}).json()
    assert covered["cover_animated_image_id"] == image_id and ".gif?sig=" in covered["cover_url"]
    assert covered["animated_images"][0]["is_cover"] is True
    restored = api.put(f"/api/v1/videos/{vid}/cover", {"animated_image_id": None}).json()
    assert restored["cover_url"] == static_cover and restored["cover_animated_image_id"] is None
    assert_error(api.put(f"/api/v1/videos/{vid}/cover", {"animated_image_id": vid}), 404, "ResourceNotFound",
                 "animated_image_id")
    assert api.delete(f"/api/v1/videos/{vid}").status_code == 204
    assert_error(api.get(f"/api/v1/videos/{vid}"), 404, "ResourceNotFound")
    assert_error(api.get(f"/api/v1/animated-images/{image_id}"), 404, "ResourceNotFound")
    assert not [p for p in media_root.rglob("*") if p.is_file()]


@pytest.fixture
def file_server(small_clip: Path) -> Iterator[str]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(small_clip.parent))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_video_from_a_url_is_downloaded_in_a_job(api, file_server, small_clip, gif_template, run_worker,
                                                   settings) -> None:  # noqa: ANN001
    settings.ALLOW_PRIVATE_ADDRESSES = True
    wf = api.post("/api/v1/workflows", {"name": "from url", "steps": [{"definition": gif_template}]}).json()
    response = api.post("/api/v1/videos/from-url", {"url": f"{file_server}/{small_clip.name}", "workflow_id": wf["id"]})
    assert response.status_code == 202
    video = response.json()
    assert (video["status"], video["title"], video["metadata"]) == ("PROCESSING", small_clip.stem, None)
    run_worker()
    ready = api.get(f"/api/v1/videos/{video['id']}").json()
    assert ready["status"] == "READY" and ready["metadata"]["Width"] == 320
    assert ready["size"] == small_clip.stat().st_size
    assert [i["status"] for i in ready["animated_images"]] == ["SUCCESS"]


def test_a_url_that_fails_to_download_fails_the_video_with_a_code(api, file_server, run_worker, settings) -> None:  # noqa: ANN001
    settings.ALLOW_PRIVATE_ADDRESSES = True
    video = api.post("/api/v1/videos/from-url", {"url": f"{file_server}/missing.mp4", "title": "Gone"}).json()
    run_worker()
    failed = api.get(f"/api/v1/videos/{video['id']}").json()
    assert (failed["status"], failed["error_code"], failed["title"]) == ("FAILED", "DownloadFailed", "Gone")
    assert "404" in failed["error_message"]


def test_private_urls_are_refused_before_anything_is_created(api, file_server, settings) -> None:  # noqa: ANN001
    settings.ALLOW_PRIVATE_ADDRESSES = False
    for url in (f"{file_server}/clip.mp4", "http://169.254.169.254/latest/meta-data/", "http://0x7f000001/",
                "file:///etc/passwd"):
        assert_error(api.post("/api/v1/videos/from-url", {"url": url}), 400, "InvalidParameter", "url")
    assert_error(api.post("/api/v1/videos/from-url", {"url": ""}), 400, "MissingParameter", "url")
    assert not Video.objects.exists() and not Task.objects.exists()
