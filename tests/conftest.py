"""Shared fixtures: a real Redis (an empty database, flushed around each test), an in-process RQ
worker, media in a temporary folder, generated clips, and a signed-in console user."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings as django_settings
from tests.workers import BurstWorker

from tests.clips import make_clip

CANDIDATE_DBS = range(15, 7, -1)
# Marks a Redis database as taken by a running test session (two sessions may run at once).
CLAIM_KEY = "loopdeck:test-session"


def _redis_base_url() -> str:
    return os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"


def _with_db(base: str, db: int) -> str:
    parts = urlsplit(base)
    if parts.scheme == "unix":
        return urlunsplit((parts.scheme, parts.netloc, parts.path, f"db={db}", ""))
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of an empty Redis database; the run refuses to touch one that holds data."""
    base = _redis_base_url()
    for db in CANDIDATE_DBS:
        url = _with_db(base, db)
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=2)
            if client.dbsize() == 0 and client.set(CLAIM_KEY, os.getpid(), nx=True):
                return url
        except redis.exceptions.ConnectionError as exc:
            pytest.exit(f"The tests need a real Redis at {base} ({exc}). `python3 run.py test` starts one.", 2)
    pytest.exit(f"No empty Redis database among {list(CANDIDATE_DBS)} at {base}; refusing to flush data.", 2)


@pytest.fixture(scope="session", autouse=True)
def _point_queues_at_test_redis(redis_url: str) -> None:
    django_settings.REDIS_URL = redis_url
    django_settings.RQ_QUEUES = {
        name: {**config, "URL": redis_url} for name, config in django_settings.RQ_QUEUES.items()
    }


@pytest.fixture(scope="session")
def _release_redis_claim(redis_url: str) -> Iterator[None]:
    yield
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture(autouse=True)
def redis_conn(redis_url: str, _release_redis_claim: None) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    _reset(client)
    yield client
    _reset(client)


def _reset(client: redis.Redis) -> None:
    client.flushdb()
    client.set(CLAIM_KEY, os.getpid())


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings) -> Path:  # noqa: ANN001 - pytest-django's settings fixture
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture(autouse=True)
def presets(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush the tables, data migrations included: put the presets back."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        from media_jobs.models import AnimatedImageTemplate
        from media_jobs.presets import install_presets

        install_presets(AnimatedImageTemplate)


@pytest.fixture
def fast_reconcile(settings) -> None:  # noqa: ANN001
    """Short heartbeat and reconcile periods so lost-worker tests finish in seconds."""
    settings.HEARTBEAT_INTERVAL = 0.5
    settings.HEARTBEAT_STALE_AFTER = 3
    settings.RECONCILE_INTERVAL = 0.5


@pytest.fixture
def run_worker(redis_conn: redis.Redis) -> Callable[[], bool]:
    """Drain the queues with an in-process burst worker (no fork: the test database lives here)."""
    from media_jobs.jobs import queues

    def drain() -> bool:
        worker = BurstWorker([queues.get_queue(name) for name in queues.ALL], connection=redis_conn)
        return worker.work(burst=True, with_scheduler=False)

    return drain


@pytest.fixture(scope="session")
def foundation_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("foundation-clips")


@pytest.fixture(scope="session")
def small_clip(foundation_clip_dir: Path) -> Path:
    """A 3 s 320x240 30 fps H.264 clip with audio."""
    return make_clip(foundation_clip_dir / "small.mp4", seconds=3.0, fps=30, audio=True)


@pytest.fixture(scope="session")
def long_clip(foundation_clip_dir: Path) -> Path:
    """A 20 s 640x360 clip: long enough that a render is still running when a test kills it."""
    return make_clip(foundation_clip_dir / "long.mp4", width=640, height=360, seconds=20.0, fps=30)


@pytest.fixture
def admin_client(django_user_model):  # noqa: ANN001, ANN201
    """A signed-in operator's client, separate from the anonymous `client` fixture."""
    from django.test import Client

    user = django_user_model.objects.create_superuser("operator", password="correct horse battery")
    signed_in = Client()
    signed_in.force_login(user)
    signed_in.user = user
    return signed_in


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues() -> None:
    """The console's translations, compiled as `manage.py serve` does at start-up."""
    from django.conf import settings
    from django.utils import translation

    from console.web.catalogues import compile_catalogues

    if compile_catalogues(settings.BASE_DIR / "locale"):
        translation.trans_real._translations = {}  # a catalogue read before it existed is read again


@pytest.fixture(autouse=True)
def _english_between_tests() -> Iterator[None]:
    """A request in another language leaves it active in this thread (Django activates per
    request and never resets); later tests that use no request would inherit it."""
    from django.utils import translation

    yield
    translation.activate("en")
