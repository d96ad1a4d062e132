"""M1: uploads above MAX_UPLOAD_SIZE, against a real gunicorn run as `manage.py serve` runs it.

A declared Content-Length over the limit gets its 413 while the client has sent only headers;
a body that grows past the limit is cut off by the upload handler as it streams; a chunked body
(no length) is refused. Afterwards the spool (temp) directory and MEDIA_ROOT hold nothing and no
video row exists.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import Client

from console.api.models import ApiKey
from media_jobs.models import Video
from tests.e2e.conftest import database_url
from tests.hardening.abuse_support import (
    closed_by_server,
    gunicorn,
    multipart,
    quoted,
    read_response,
)

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT_MB = 3
GIB = 1024 ** 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, redis_url: str, django_db_setup) -> dict:
    """One gunicorn for the module, its own media and spool folders, a 3 MiB upload limit."""
    root = tmp_path_factory.mktemp("upload-limits")
    media, spool = root / "media", root / "spool"
    media.mkdir()
    spool.mkdir()
    env = dict(os.environ, REDIS_URL=redis_url, DATABASE_URL=database_url(), MEDIA_ROOT=str(media),
               LOOPDECK_DATA_DIR=str(settings.DATA_DIR), SECRET_KEY=settings.SECRET_KEY,
               MAX_UPLOAD_SIZE_MB=str(LIMIT_MB), TMPDIR=str(spool), DEBUG="0")
    with gunicorn(env, root / "gunicorn.log") as (host, port):
        yield {"host": host, "port": port, "url": f"http://{host}:{port}", "media": media, "spool": spool}


@pytest.fixture
def operator(django_user_model) -> dict:
    """A signed-in session and an API key, both valid in the server process."""
    user = django_user_model.objects.create_superuser("operator", password="correct horse battery")
    client = Client()
    client.force_login(user)
    _, token = ApiKey.issue("limits")
    return {"session": client.cookies[settings.SESSION_COOKIE_NAME].value, "token": token}


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def _assert_nothing_kept(server: dict) -> None:
    # The parser deletes its spool file when the request ends, just after the answer is sent.
    deadline = time.monotonic() + 2
    while _files(server["spool"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _files(server["spool"]) == [] and _files(server["media"]) == []
    assert not Video.objects.exists()


def _send_headers(server: dict, path: str, headers: dict[str, str]) -> socket.socket:
    sock = socket.create_connection((server["host"], server["port"]), timeout=5)
    lines = [f"POST {path} HTTP/1.1", f"Host: {server['host']}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def test_a_declared_size_over_the_limit_gets_413_before_any_of_the_body_is_sent(server, operator):
    boundary_type = "multipart/form-data; boundary=x"
    cases = [
        ("/api/v1/videos", {"Authorization": f"Bearer {operator['token']}"}, "api"),
        ("/videos/upload/", {"Cookie": f"sessionid={operator['session']}", "Accept": "application/json"}, "script"),
        ("/videos/upload/", {"Cookie": f"sessionid={operator['session']}"}, "page"),
        ("/api/v1/videos", {}, "api"),  # anonymous: refused all the same, nothing read
    ]
    for path, headers, shape in cases:
        started = time.monotonic()
        sock = _send_headers(server, path, {**headers, "Content-Type": boundary_type,
                                            "Content-Length": str(5 * GIB)})
        with sock:
            status, answer_headers, body = read_response(sock, timeout=5)
            elapsed = time.monotonic() - started
            assert status == 413 and elapsed < 2, (path, status, elapsed)
            if shape == "api":
                error = json.loads(body)
                assert error["code"] == "FileTooLarge" and f"{LIMIT_MB} MiB" in error["message"]
            elif shape == "script":  # what the upload page's script shows beside the file
                assert json.loads(body)["errors"]["file"] == [f"The file is larger than the {LIMIT_MB} MiB upload limit."]
            else:
                assert answer_headers["content-type"].startswith("text/html") and f"{LIMIT_MB} MiB" in body.decode()
            # A client that sends its body anyway: gunicorn discards at most 64 KB of it (its
            # drain bound) and then ends the connection; nothing of it reaches Django or the disk.
            try:
                sock.sendall(os.urandom(256 * 1024))
            except OSError:
                pass
            assert closed_by_server(sock, timeout=3)
    _assert_nothing_kept(server)


def test_a_file_that_grows_past_the_limit_is_cut_off_while_it_streams(server, operator):
    """Content-Length within the limit plus the envelope allowance, the file itself over it. The
    client sends all but the last 256 KB and waits: the answer comes anyway, because the upload
    handler stops the parser at the limit instead of waiting for (and spooling) the whole file."""
    content = os.urandom(LIMIT_MB * 1024 * 1024 + 512 * 1024)
    browser = requests.Session()
    browser.cookies.set(settings.SESSION_COOKIE_NAME, operator["session"])
    page = browser.get(f"{server['url']}/videos/upload/", timeout=10).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    cases = [
        ("/api/v1/videos", {"Authorization": f"Bearer {operator['token']}"}, {"title": "big"}),
        # The console, signed in with a CSRF token, the way the upload page's script posts.
        ("/videos/upload/", {"Cookie": f"sessionid={operator['session']}; csrftoken={browser.cookies['csrftoken']}",
                             "Accept": "application/json"}, {"csrfmiddlewaretoken": csrf}),
    ]
    for path, headers, fields in cases:
        body, content_type = multipart(quoted("big.mp4"), content, fields)
        sock = _send_headers(server, path, {**headers, "Content-Type": content_type,
                                            "Content-Length": str(len(body))})
        with sock:
            started = time.monotonic()
            sock.sendall(body[:-256 * 1024])
            status, _, answer = read_response(sock, timeout=3)
            assert status == 413 and time.monotonic() - started < 3, (path, status, answer[:300])
            error = json.loads(answer)
            if path.startswith("/api/"):
                assert error["code"] == "FileTooLarge" and error["field"] == "file"
            else:
                assert error["errors"]["file"] == [f"The file is larger than the {LIMIT_MB} MiB upload limit."]
        _assert_nothing_kept(server)


def test_a_chunked_upload_without_a_length_is_refused(server, operator):
    sock = _send_headers(server, "/api/v1/videos", {
        "Authorization": f"Bearer {operator['token']}", "Content-Type": "multipart/form-data; boundary=x",
        "Transfer-Encoding": "chunked"})
    stop = threading.Event()

    def stream() -> None:  # keeps sending, like a client streaming a huge file
        chunk = b"%x\r\n%s\r\n" % (65536, os.urandom(65536))
        try:
            while not stop.is_set():
                sock.sendall(chunk)
        except OSError:
            pass

    sender = threading.Thread(target=stream, daemon=True)
    sender.start()
    with sock:
        status, _, body = read_response(sock, timeout=5)
        stop.set()
        assert status == 411 and json.loads(body)["code"] == "MissingParameter"
        # gunicorn drains at most 64 KB of an unread body, for at most its 5 s data timeout, then
        # closes: waiting exactly 5 s raced that deadline (failed in 2 of 5 full runs).
        assert closed_by_server(sock, timeout=10)
    sender.join(timeout=5)
    _assert_nothing_kept(server)


def test_an_upload_within_the_limit_is_accepted(server, operator, small_clip):
    body, content_type = multipart(quoted("small.mp4"), small_clip.read_bytes())
    answer = requests.post(f"{server['url']}/api/v1/videos", data=body, timeout=30,
                           headers={"Authorization": f"Bearer {operator['token']}", "Content-Type": content_type})
    assert answer.status_code == 201, answer.text
    assert Video.objects.get().file.name.endswith("/original.mp4")


def test_the_upload_page_states_the_limit_its_script_enforces(admin_client, settings):
    """The page's script refuses a bigger file before sending it (checked in Chromium against this
    gunicorn: with or without that check, the operator reads the limit beside the file)."""
    settings.MAX_UPLOAD_SIZE = LIMIT_MB * 1024 * 1024
    page = admin_client.get("/videos/upload/").content.decode()
    assert f'data-max-bytes="{LIMIT_MB * 1024 * 1024}"' in page and f"{LIMIT_MB}.0 MiB at most each" in page
