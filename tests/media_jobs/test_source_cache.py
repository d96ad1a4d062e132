"""A worker's cache of sources fetched from object storage (media_jobs/jobs/source_cache.py)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from media_jobs.jobs import source_cache
from media_jobs.jobs.common import local_copy
from tests.s3server import S3Server, moto_server

KB = 1024


@pytest.fixture(autouse=True)
def scratch(settings, tmp_path: Path) -> Path:
    settings.SCRATCH_DIR = tmp_path / "scratch"
    return settings.SCRATCH_DIR


def _writer(payloads: dict[str, bytes], calls: list[str], name: str):
    def download(path: Path) -> None:
        calls.append(name)
        path.write_bytes(payloads[name])
    return download


def _job_folder(scratch: Path) -> Path:
    folder = scratch / f"loopdeck-render-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    return folder


def test_the_second_render_of_a_source_does_not_download_it_again(scratch):
    payloads, calls = {"videos/a/original.mp4": os.urandom(300 * KB)}, []
    name = "videos/a/original.mp4"
    first, second = _job_folder(scratch) / "source.mp4", _job_folder(scratch) / "source.mp4"
    assert source_cache.fetch(name, 300 * KB, _writer(payloads, calls, name), first) is False
    assert source_cache.fetch(name, 300 * KB, _writer(payloads, calls, name), second) is True
    assert calls == [name]
    assert first.read_bytes() == second.read_bytes() == payloads[name]


def test_the_least_recently_used_sources_go_first_and_a_running_job_keeps_its_copy(scratch, settings):
    settings.SOURCE_CACHE_MB = 1
    names = [f"videos/{k}/original.mp4" for k in range(3)]
    payloads, calls = {n: os.urandom(400 * KB) for n in names}, []
    copies = []
    for n in names:
        copies.append(_job_folder(scratch) / "source.mp4")
        source_cache.fetch(n, 400 * KB, _writer(payloads, calls, n), copies[-1])
    cached = sorted(source_cache.cache_dir().iterdir())
    assert sum(p.stat().st_size for p in cached) <= 1024 * KB and len(cached) == 2
    # The first source left the cache, but the job that fetched it still reads it whole.
    assert copies[0].read_bytes() == payloads[names[0]]
    source_cache.fetch(names[0], 400 * KB, _writer(payloads, calls, names[0]), _job_folder(scratch) / "s.mp4")
    assert calls == names + [names[0]]
    # Used just now, the third stays; the second (least recently used) went.
    source_cache.fetch(names[2], 400 * KB, _writer(payloads, calls, names[2]), _job_folder(scratch) / "s.mp4")
    assert calls == names + [names[0]]


def test_a_source_larger_than_the_cache_or_a_cache_of_zero_is_fetched_each_time(scratch, settings):
    settings.SOURCE_CACHE_MB = 0
    name, payloads, calls = "videos/z/original.mp4", {"videos/z/original.mp4": os.urandom(10 * KB)}, []
    for _ in range(2):
        target = _job_folder(scratch) / "source.mp4"
        assert source_cache.fetch(name, 10 * KB, _writer(payloads, calls, name), target) is False
        assert target.read_bytes() == payloads[name]
    assert calls == [name, name]
    assert not (Path(scratch) / source_cache.FOLDER).exists()


def test_a_download_cut_short_is_neither_cached_nor_left_behind(scratch):
    name = "videos/c/original.mp4"

    def short(path: Path) -> None:
        path.write_bytes(b"x" * 100)

    def broken(path: Path) -> None:
        path.write_bytes(b"x" * 10)
        raise ConnectionError("connection reset")

    with pytest.raises(OSError, match="100 bytes, not 200"):
        source_cache.fetch(name, 200, short, _job_folder(scratch) / "source.mp4")
    with pytest.raises(ConnectionError):
        source_cache.fetch(name, 200, broken, _job_folder(scratch) / "source.mp4")
    assert list(source_cache.cache_dir().iterdir()) == []


@pytest.fixture(scope="module")
def s3() -> S3Server:
    with moto_server() as server:
        yield server


class _Stored:
    """What local_copy reads of a FileField's file."""

    def __init__(self, storage, name: str):
        self.storage, self.name = storage, name

    @property
    def path(self) -> str:
        return self.storage.path(self.name)  # a bucket has no local path: NotImplementedError


def test_a_worker_fetches_a_bucket_source_once_for_two_renders(s3, settings, scratch, monkeypatch):
    bucket = s3.create_bucket(f"loopdeck-{uuid.uuid4().hex[:12]}")
    settings.STORAGES = {**settings.STORAGES, "default": s3.storage_options(bucket)}
    storage = storages["default"]
    payload = os.urandom(700 * KB)
    name = storage.save("videos/s/original.mp4", ContentFile(payload))
    downloads = []
    real = storage.download_to
    monkeypatch.setattr(storage, "download_to", lambda n, t: (downloads.append(n), real(n, t)))
    for _ in range(2):
        with local_copy(_Stored(storage, name), _job_folder(scratch)) as source:
            assert source.read_bytes() == payload
    assert downloads == [name]
