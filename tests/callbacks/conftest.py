"""Fixtures for event notifications: a real HTTP receiver on 127.0.0.1 in a thread, settings
that shorten the retry schedule, and a worker loop that also releases scheduled retries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from tests.workers import BurstWorker

from media_jobs.jobs import queues
from media_jobs.models import Video


@dataclass
class Reply:
    """How the receiver answers one request. `hook` replaces the answer entirely."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hook: Callable[[BaseHTTPRequestHandler], None] | None = None


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """An `http.server` on a free 127.0.0.1 port. Replies are used in order; the last repeats."""

    def __init__(self, replies: list[Reply] | None = None):
        self.replies = list(replies or [Reply()])
        self.received: list[Received] = []
        self.connections = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def setup(self) -> None:
                with receiver._lock:
                    receiver.connections += 1
                super().setup()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    index = len(receiver.received)
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body, time.time()))
                    reply = receiver.replies[min(index, len(receiver.replies) - 1)]
                if reply.hook:
                    reply.hook(self)
                    return
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_POST = _answer
            do_GET = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def make(*replies: Reply) -> Receiver:
        r = Receiver(list(replies) or None).start()
        started.append(r)
        return r

    yield make
    for r in started:
        r.stop()


@pytest.fixture
def callback_settings(settings):
    """Tests reach their own receiver on 127.0.0.1 and retry within a second."""
    settings.ALLOW_PRIVATE_ADDRESSES = True
    settings.CALLBACK_TIMEOUT = 1.0
    settings.CALLBACK_RETRY_SCHEDULE = [0.2, 0.2, 0.2]
    settings.CALLBACK_RETRY_AFTER_MAX = 60
    settings.RECONCILE_INTERVAL = 0.5
    settings.PULL_CONFIRM_TIMEOUT = 1.0
    settings.PUBLIC_BASE_URL = "https://media.example.com"
    return settings


@pytest.fixture
def drain_callbacks(redis_conn: redis.Redis) -> Callable[..., None]:
    """Run the callbacks queue until `done()` or the timeout, moving retries onto the queue when
    they fall due. (A burst worker's own scheduler takes a lock that can outlive it, so the next
    burst worker's scheduler would wait: retries then missed the timeout on a busy machine.)"""

    def enqueue_due(queue) -> None:  # noqa: ANN001
        registry = queue.scheduled_job_registry
        for job_id in registry.get_jobs_to_schedule(int(time.time())):  # RQ scores whole seconds
            job = queue.fetch_job(job_id)
            registry.remove(job_id)
            if job is not None:
                queue.enqueue_job(job)

    def drain(done: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            queue = queues.get_queue(queues.CALLBACKS)
            enqueue_due(queue)
            worker = BurstWorker([queue], connection=redis_conn)
            worker.work(burst=True)
            if done():
                return
            if time.monotonic() > deadline:
                raise AssertionError("the deliveries did not settle in time")
            time.sleep(0.05)

    return drain


def failed_upload(title: str = "clip") -> Video:
    """A video whose upload ends FAILED through the real state change, which writes an event."""
    video = Video.objects.create(title=title, size=1234)
    video.mark_failed("InvalidVideoFormat", "not a video")
    return video
