"""Session-wide test clips for the encode core: each distinct clip is generated once per run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests import clips


# The encode core needs neither Redis nor Django settings: these no-ops replace the project-wide
# autouse fixtures of tests/conftest.py for this folder, so `pytest tests/encode -p no:django`
# runs on a machine without a Redis server.
@pytest.fixture(scope="session", autouse=True)
def _point_queues_at_test_redis() -> None:
    return None


@pytest.fixture(autouse=True)
def redis_conn() -> Iterator[None]:
    yield None


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def make_clip(clip_dir: Path) -> Callable[..., Path]:
    """Return `make(**kwargs) -> Path`: clips.make_clip with a per-session cache keyed on kwargs."""
    cache: dict[str, Path] = {}

    def make(**kwargs: Any) -> Path:
        key = json.dumps(kwargs, sort_keys=True, default=str)
        if key not in cache:
            codec = kwargs.get("codec", "libx264")
            if codec == "libx265" and not clips.has_encoder("libx265"):
                pytest.skip("this PyAV build has no libx265 encoder")
            name = hashlib.sha1(key.encode()).hexdigest()[:12]
            path = clip_dir / (name + clips.suffix_for(codec, kwargs.get("container")))
            cache[key] = clips.make_clip(path, **kwargs)
        return cache[key]

    return make


@pytest.fixture(scope="session")
def long_clip(clip_dir: Path) -> Path:
    """60 s, 160x120, 10 fps, a keyframe every 10 s."""
    return clips.make_long_clip(clip_dir / "long_60s.mp4")


@pytest.fixture(scope="session")
def audio_only(clip_dir: Path) -> Path:
    return clips.make_audio_only(clip_dir / "audio_only.m4a")


@pytest.fixture(scope="session")
def empty_file(clip_dir: Path) -> Path:
    return clips.make_empty(clip_dir / "empty.mp4")


@pytest.fixture(scope="session")
def text_file(clip_dir: Path) -> Path:
    return clips.make_text(clip_dir / "notes.mp4")


@pytest.fixture(scope="session")
def truncated_clip(clip_dir: Path, make_clip: Callable[..., Path]) -> Path:
    """The first 40 % of a 3 s clip whose index is at the front: headers intact, data cut."""
    src = make_clip(seconds=3.0, faststart=True, gop=15)
    return clips.make_truncated(src, clip_dir / "truncated.mp4", keep=0.4)


@pytest.fixture(scope="session")
def headless_clip(clip_dir: Path, make_clip: Callable[..., Path]) -> Path:
    """The first half of a clip whose index is at the end: no header survives."""
    src = make_clip(seconds=2.0)
    return clips.make_truncated(src, clip_dir / "headless.mp4", keep=0.5)
