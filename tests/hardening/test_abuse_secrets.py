"""S5/S7: API keys are hashed at rest, refused once revoked and never taken from a query string;
no secret (API key, callback signing secret, SECRET_KEY, the Redis password, a login password)
reaches the logs or an error page, across a whole flow on a password-protected Redis."""

from __future__ import annotations

import logging
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.debug import ExceptionReporter
from tests.workers import BurstWorker

from console.api.models import ApiKey, hash_token
from media_jobs.jobs import queues
from media_jobs.models import Delivery, Subscription, Video
from tests.callbacks.conftest import Receiver, Reply
from tests.hardening.abuse_support import multipart, quoted

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_PASSWORD = "redis-pw-" + "7f3c9a1e5b2d4c8f"
LOGIN_PASSWORD = "correct horse battery staple 42"
TOKEN_RE = re.compile(r"ld_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def password_redis(tmp_path) -> Iterator[str]:
    """A redis-server of our own that refuses clients without the password."""
    port = _closed_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--requirepass", REDIS_PASSWORD, "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(port=port).ping()
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)


class Capture(logging.Handler):
    """Every record from every logger, formatted with its traceback, as the console handler would."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def capture() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    levels = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    for logger, level in levels:
        logger.setLevel(level)


def _dump_database() -> str:
    """Every row of every table as text: what a stolen backup would show."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows += [repr(row) for row in cursor.fetchall()]
    return "\n".join(rows)


def _work(connection_: redis.Redis, done: callable, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        BurstWorker([queues.get_queue(name) for name in (queues.LIGHT, queues.CALLBACKS)],
                     connection=connection_).work(burst=True, with_scheduler=True)
        assert time.monotonic() < deadline, "the jobs did not finish in time"
        time.sleep(0.05)


def _crash_report(request) -> str:
    """The technical 500 page for a view that failed on this request (no secrets in its locals)."""
    try:
        raise RuntimeError("a view failed")
    except RuntimeError:
        return ExceptionReporter(request, *sys.exc_info()).get_traceback_html()


def test_no_secret_reaches_the_logs_or_an_error_page(settings, password_redis, capture, django_user_model,
                                                     small_clip):
    settings.REDIS_URL = password_redis
    settings.RQ_QUEUES = {name: {**config, "URL": password_redis} for name, config in settings.RQ_QUEUES.items()}
    settings.ALLOW_PRIVATE_ADDRESSES = True
    settings.CALLBACK_TIMEOUT = 1.0
    settings.CALLBACK_RETRY_SCHEDULE = [0.2, 0.2]
    django_user_model.objects.create_superuser("operator", password=LOGIN_PASSWORD)
    browser = Client(raise_request_exception=False)
    # A failed then a successful sign-in: the password is in both bodies.
    assert browser.post(reverse("console-login"), {"username": "operator", "password": LOGIN_PASSWORD + "x"}
                        ).status_code == 200
    assert browser.post(reverse("console-login"), {"username": "operator", "password": LOGIN_PASSWORD}
                        ).status_code == 302

    # An API key, created in the console: shown once, stored hashed.
    page = browser.post(reverse("console-api-keys"), {"name": "deploy bot"}).content.decode()
    token = TOKEN_RE.search(page)[0]
    assert token not in browser.get(reverse("console-api-keys")).content.decode()
    api = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {token}"})
    # An access key for the vendor SDKs: its secret is on this page only, kept encrypted; a call
    # signed wrongly with it is refused and logged.
    page = browser.post(reverse("console-access-key-create"), {"access-name": "sdk"}).content.decode()
    access_id = re.search(r'id="new-access-id">([^<]+)<', page)[1]
    access_secret = re.search(r'id="new-access-secret">([^<]+)<', page)[1]
    assert access_secret not in browser.get(reverse("console-api-keys")).content.decode()
    stamp = int(time.time())
    refused = Client().post("/", "{}", content_type="application/json", headers={
        "X-TC-Action": "DescribeTasks", "X-TC-Version": "2018-07-17", "X-TC-Timestamp": str(stamp),
        "Authorization": f"TC3-HMAC-SHA256 Credential={access_id}/{time.strftime('%Y-%m-%d', time.gmtime(stamp))}"
                         f"/vod/tc3_request, SignedHeaders=content-type;host, Signature={'0' * 64}"})
    assert refused.json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"

    # A subscription (its signing secret is in this answer only), an upload, a delivery that
    # fails once and is retried, against a real receiver.
    receiver = Receiver([Reply(status=500, body=b"try again"), Reply()]).start()
    try:
        created = api.post("/api/v1/subscriptions", {"name": "hooks", "url": receiver.url, "shape": "TENCENT"},
                           content_type="application/json")
        assert created.status_code == 201, created.content
        secret = created.json()["secret"]
        body, content_type = multipart(quoted("clip.mp4"), small_clip.read_bytes())
        assert api.post("/api/v1/videos", body, content_type=content_type).status_code == 201
        worker_redis = redis.Redis.from_url(password_redis)
        _work(worker_redis, lambda: Delivery.objects.filter(status=Delivery.Status.DELIVERED).exists())
        assert len(receiver.received) >= 2 and Video.objects.get().status == Video.Status.READY
    finally:
        receiver.stop()

    # Requests that fail: a wrong key, the key in a query string, a revoked key, Redis gone.
    assert Client().get("/api/v1/videos", headers={"Authorization": "Bearer ld_000000000000_wrong"}).status_code == 401
    for name in ("api_key", "access_token", "token", "key"):
        assert Client().get(f"/api/v1/videos?{name}={token}").status_code == 401
    key = ApiKey.objects.get()
    browser.post(reverse("console-api-key-revoke", args=[key.pk]))
    assert api.get("/api/v1/videos").status_code == 401
    _, fresh_token = ApiKey.issue("second")
    gone = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{_closed_port()}/0"
    settings.RQ_QUEUES = {name: {**config, "URL": gone} for name, config in settings.RQ_QUEUES.items()}
    # Redis away: the API answers from the database (its rate limit is skipped, with a warning
    # that names the error).
    answered = Client(raise_request_exception=False).get(
        "/api/v1/videos", headers={"Authorization": f"Bearer {fresh_token}"})
    assert answered.status_code == 200
    overview = browser.get(reverse("console-home")).content.decode()
    assert "Redis is unreachable" in overview
    # A Redis URL that cannot even be parsed: the API's JSON 500 and the console's generic 500 page.
    broken = f"redis://:{REDIS_PASSWORD}@127.0.0.1:99999/0"
    settings.RQ_QUEUES = {name: {**config, "URL": broken} for name, config in settings.RQ_QUEUES.items()}
    failed = Client(raise_request_exception=False).get(
        "/api/v1/videos", headers={"Authorization": f"Bearer {fresh_token}"})
    assert failed.status_code == 500 and failed.json()["code"] == "InternalError"
    crashed = browser.get(reverse("console-home"))
    assert crashed.status_code == 500
    overview += crashed.content.decode() + failed.content.decode()

    # The DEBUG error page (and mailed 500 reports) list settings and the request's environment.
    settings.REDIS_URL = broken
    report = _crash_report(RequestFactory().get(
        "/boom", HTTP_AUTHORIZATION=f"Bearer {fresh_token}", REDIS_URL=password_redis,
        DATABASE_URL=f"postgres://loopdeck:{REDIS_PASSWORD}@db/x"))
    assert "redis://:********@127.0.0.1" in report and "postgres://loopdeck:********@db" in report

    secrets = {"API key": token, "second API key": fresh_token, "signing secret": secret,
               "access key secret": access_secret,
               "SECRET_KEY": settings.SECRET_KEY, "Redis password": REDIS_PASSWORD, "login password": LOGIN_PASSWORD}
    assert len(capture.lines) > 20  # the flow did log: requests, jobs, the failed attempt, the 500
    for what, value in secrets.items():
        for where, text in (("logs", capture.text), ("error page", report), ("overview page", overview)):
            assert value not in text, f"the {what} appears in the {where}"
    # The token's secret half is not stored anywhere; its SHA-256 is.
    dump = _dump_database()
    for value in (token, token.split("_", 2)[2], fresh_token.split("_", 2)[2], access_secret):
        assert value not in dump
    assert hash_token(token) in dump and Subscription.objects.get().secret == secret
