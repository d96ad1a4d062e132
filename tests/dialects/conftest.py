"""The vendor dialects, called by the vendors' official SDKs against a live Loopdeck on
127.0.0.1 (pytest-django's live server), changing only the endpoint and the scheme."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image, ImageSequence

from console.dialects.keys import create_access_key
from tests.api.conftest import ApiClient


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every SDK honours HTTP(S)_PROXY, even for 127.0.0.1.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def endpoint(live_server, settings) -> str:  # noqa: ANN001
    """`127.0.0.1:<port>`, the one line a user changes in their SDK setup."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.PUBLIC_BASE_URL = live_server.url
    return f"127.0.0.1:{urlsplit(live_server.url).port}"


@pytest.fixture
def access_key(transactional_db) -> tuple[str, str]:  # noqa: ANN001
    key, secret = create_access_key("sdk tests")
    return key.key_id, secret


@pytest.fixture
def ready_video(transactional_db, small_clip: Path, run_worker) -> str:  # noqa: ANN001
    """A video uploaded through Loopdeck's own upload (the JSON API) and prepared by a real worker."""
    from console.api.models import ApiKey

    api = ApiClient(ApiKey.issue("uploader")[1])
    with small_clip.open("rb") as handle:
        video = api.upload("/api/v1/videos", {"file": handle, "title": "sdk clip"}).json()
    deadline = time.monotonic() + 60
    while api.get(f"/api/v1/videos/{video['id']}").json()["status"] != "READY":
        assert time.monotonic() < deadline, "the upload was not prepared"
        run_worker()
    return video["id"]


def drain_until(run_worker, done: Callable[[], bool], seconds: float = 90) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the task did not finish"
        run_worker()


def fetch_frames(url: str) -> tuple[Image.Image, list[Image.Image], list[int], bytes]:
    data = requests.get(url, timeout=10).content
    image = Image.open(io.BytesIO(data))
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        frame.load()  # Pillow's WebP reader fills in the delay only once the frame is loaded
        frames.append(frame.copy())
        durations.append(frame.info.get("duration", 0))
    return image, frames, durations, data
