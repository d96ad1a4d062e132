"""A program's whole journey over HTTP only: template, upload, task, poll, download, check."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image, ImageSequence

from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_template_upload_task_poll_download(api: ApiClient, small_clip: Path, run_worker) -> None:  # noqa: ANN001
    template = api.post("/api/v1/templates", {"name": "e2e webp", "format": "webp", "width": 200, "fps": 8,
                                              "duration": 2}).json()
    with small_clip.open("rb") as handle:
        video = api.upload("/api/v1/videos", {"file": handle, "title": "e2e"}).json()
    task = api.post("/api/v1/tasks", {"video_id": video["id"], "animated_graphic_task_set": [
        {"definition": template["definition"], "start_time_offset": 0.5}]},
        headers={"Idempotency-Key": "e2e-1"}).json()

    deadline = time.monotonic() + 60
    while True:
        state = api.get(f"/api/v1/tasks/{task['task_id']}").json()
        if state["status"] == "FINISH" or time.monotonic() > deadline:
            break
        run_worker()  # the in-process worker stands in for the worker processes
    assert (state["status"], state["result"]) == ("FINISH", "SUCCESS")

    output = state["animated_graphic_task_set"][0]
    download = api.client.get(output["url"])
    assert download.status_code == 200
    data = b"".join(download.streaming_content) if download.streaming else download.content
    with Image.open(io.BytesIO(data)) as im:
        frames = [frame.copy() for frame in ImageSequence.Iterator(im)]
        assert (im.format, im.size) == ("WEBP", (200, 150))
    # 8 fps over 0.5 s .. 2.5 s: 16 frames.
    assert len(frames) == output["frames"] == 16
    assert (output["width"], output["height"], output["size"]) == (200, 150, len(data))
