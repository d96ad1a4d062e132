"""Malformed requests, sent as raw bytes to a real gunicorn (run as `manage.py serve` runs it).

tests/api/test_fuzz.py fuzzes the shapes the OpenAPI document describes; this fuzzes what it
does not: bodies and headers that are not what any client library would send. Deep nesting, lone
surrogates, bad UTF-8, numbers too big for a float or an int, wrong content types, multipart
bodies without or with a broken boundary, odd headers and query strings, to API and console
paths, signed in and not. No answer may be a 5xx; every API answer is the JSON error shape with
the request id of its `X-Request-Id` header; a console answer in JSON carries a code and the
request id too; and the server logs no ERROR and no traceback for any of it.

The seed is fixed (CI repeats the same requests); `LOOPDECK_RAW_FUZZ_SEED` and
`LOOPDECK_RAW_FUZZ_COUNT` try others.
"""

from __future__ import annotations

import json
import os
import random
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from console.api.models import ApiKey
from media_jobs.models import Video
from tests.e2e.conftest import database_url
from tests.hardening.abuse_support import gunicorn, read_response

pytestmark = pytest.mark.django_db(transaction=True)

SEED = int(os.environ.get("LOOPDECK_RAW_FUZZ_SEED", "20261205"))
COUNT = int(os.environ.get("LOOPDECK_RAW_FUZZ_COUNT", "220"))


@dataclass
class Raw:
    """One request as bytes on the wire (Content-Length added unless given)."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def wire(self, host: str) -> bytes:
        headers = {"Host": host, "Connection": "close", **self.headers}
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            headers.setdefault("Content-Length", str(len(self.body)))
        head = f"{self.method} {self.target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return head.encode("latin-1") + b"\r\n" + self.body

    def __str__(self) -> str:
        body = self.body[:80] + (b"..." if len(self.body) > 80 else b"")
        return f"{self.method} {self.target[:120]} {self.headers} {body!r} ({len(self.body)} bytes)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, redis_url: str, django_db_setup) -> dict:
    root = tmp_path_factory.mktemp("raw-requests")
    (root / "media").mkdir()
    env = dict(os.environ, REDIS_URL=redis_url, DATABASE_URL=database_url(), MEDIA_ROOT=str(root / "media"),
               LOOPDECK_DATA_DIR=str(settings.DATA_DIR), SECRET_KEY=settings.SECRET_KEY, DEBUG="0",
               LOG_LEVEL="INFO", API_RATE_LIMIT="0")
    log = root / "gunicorn.log"
    with gunicorn(env, log) as (host, port):
        yield {"host": host, "port": port, "log": log}


@pytest.fixture
def operator(django_user_model) -> dict:
    """A signed-in session, an API key and a video, all visible to the server process."""
    user = django_user_model.objects.create_superuser("operator", password="correct horse battery")
    client = Client()
    client.force_login(user)
    _, token = ApiKey.issue("raw")
    video = Video.objects.create(title="target", file="videos/raw/original.mp4", status=Video.Status.READY)
    return {"session": client.cookies[settings.SESSION_COOKIE_NAME].value, "token": token,
            "video": str(video.public_id)}


def send(server: dict, request: Raw, timeout: float = 20) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection((server["host"], server["port"]), timeout=timeout) as sock:
        sock.sendall(request.wire(f"{server['host']}:{server['port']}"))
        status, headers, body = read_response(sock, timeout)
    if "chunked" in headers.get("transfer-encoding", ""):
        body = _dechunk(body)
    return status, headers, body


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


def check(server: dict, request: Raw) -> tuple[int, dict]:
    """Send it; fail on a 5xx or an answer without our error shape where JSON is due."""
    status, headers, body = send(server, request)
    assert status < 500, f"{status} for {request}: {body[:300]!r}"
    path = request.target.split("?")[0]
    is_json = "json" in headers.get("content-type", "")
    document: dict = {}
    if path.startswith("/api/v1/"):
        assert is_json, f"{status} {headers.get('content-type')} for {request}: {body[:200]!r}"
        assert headers.get("x-request-id"), f"no X-Request-Id for {request}"
    if is_json and status >= 400:
        document = json.loads(body)
        assert isinstance(document.get("code"), str) and document["code"], f"no code for {request}: {document}"
        replayed = headers.get("idempotent-replayed") == "true"  # the first answer again, with its id
        assert replayed or document.get("request_id") == headers.get("x-request-id"), f"{request}: {document}"
    return status, document


# -- the pieces the fuzz combines -----------------------------------------------------------------

HUGE_INT = b"9" * 5000


def _json_bodies(name_field: str) -> list[bytes]:
    def doc(value: str) -> bytes:
        return b'{"' + name_field.encode() + b'": ' + value.encode() + b"}"

    return [
        b"[" * 100_000,
        b'{"a":' * 50_000,
        b"[" * 3000 + b"]" * 3000,
        doc('"\\ud800"'), doc('"ok \\udfff end"'), b'{"\\ud800": 1}', doc('"\\ud83d"'),
        doc('"a\\u0000b"'),
        b'{"' + name_field.encode() + b'": "\xff\xfe\xfd"}', b"\xef\xbb\xbf" + doc('"bom"'),
        doc('"x"').decode().encode("utf-16"),
        b'{"width": 1e999}', b'{"width": -1e999}', b'{"width": ' + HUGE_INT + b"}", b'{"fps": NaN}',
        b'{"width": Infinity}', b'{"max_events": 1e400, "wait_seconds": 0}', b'{"start": 1e308, "duration": 1e308}',
        b"[]", b'"string"', b"123", b"null", b"true", b"{", b'{"name": "x', b"]", b"{}}", b"\x00" * 16,
        doc('"' + "x" * 3_000_000 + '"'),
    ]


def _multipart(boundary: str, parts: bytes) -> tuple[str, bytes]:
    return f"multipart/form-data; boundary={boundary}", parts


MULTIPART = [
    ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhi\r\n--x--\r\n"),
    ("multipart/form-data; boundary=", b"--\r\n\r\n"),
    ("multipart/form-data; boundary=" + "b" * 300, b"--" + b"b" * 300 + b"--\r\n"),
    ('multipart/form-data; boundary="ends in a space "', b"junk"), ("multipart/form-data; boundary=\xe9t\xe9", b"junk"),
    _multipart("x", b"not a multipart body at all"),
    _multipart("x", b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\nunterminated"),
    _multipart("x", b"--x\r\nno-colon-header\r\n\r\nvalue\r\n--x--\r\n"),
    _multipart("x", b"--x\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--x--\r\n"),
    _multipart("x", b"--x\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n\xed\xa0\x80\xff\r\n--x--\r\n"),
    _multipart("x", b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\xed\xa0\x80.mp4\"\r\n"
                    b"Content-Type: video/mp4\r\n\r\nabc\r\n--x--\r\n"),
    _multipart("x", b"".join(b"--x\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n1\r\n" % i
                             for i in range(1100)) + b"--x--\r\n"),
    _multipart("x", b"".join(b"--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"%d.mp4\"\r\n\r\n1\r\n" % i
                             for i in range(120)) + b"--x--\r\n"),
]

FORM_BODIES = [b"a=%ff%fe&b=\xff\xfe", b"&".join(b"f%d=1" % i for i in range(1200)), b"%%%%=&&&==",
               b"title=" + b"%ED%A0%80" * 10, b"name=a%00b"]

CONTENT_TYPES = ["application/json", "application/json; charset=utf-16", "application/json; charset=bogus",
                 "text/plain", "application/xml", "", "application/x-www-form-urlencoded", "*/*",
                 "application/json; " + "p=1; " * 200]

# Within gunicorn's own limits (a request line of 4094 bytes, 8190 per header): past them gunicorn
# answers before Django sees the request.
QUERIES = ["", "?limit=1e999", "?limit=99999999999999999999999999", "?offset=-5&limit=0", "?%ff=%fe",
           "?search=%00", "?status=" + "%ED%A0%80", "?" + "a=&" * 1100,
           "?limit=NaN&offset=Infinity", "?" + "x" * 3500]

HEADER_ODDITIES: list[dict[str, str]] = [
    {}, {"Accept": "application/json;q=abc"}, {"Authorization": "Bearer"}, {"Authorization": "Basic Zm9vOmJhcg=="},
    {"Authorization": "Bearer " + "x" * 4000}, {"Authorization": "Bearer \xe9\xff"},
    {"Idempotency-Key": ""}, {"Idempotency-Key": "k" * 300}, {"Idempotency-Key": "\xe9t\xe9"},
    {"Cookie": "sessionid=\"unterminated; csrftoken=;;;=="}, {"Content-Encoding": "gzip"}, {"X-Forwarded-For": "not an address"},
    {"Host": "evil.example"}, {"Host": "[::1"}, {"Host": "127.0.0.1:99999"}, {"Accept-Language": "\xff" * 50},
]


def _targets(video: str) -> list[tuple[str, str, str]]:
    """(method, path, the text field a body's name goes in)."""
    return [
        ("POST", "/api/v1/templates", "name"), ("POST", "/api/v1/workflows", "name"),
        ("PATCH", f"/api/v1/videos/{video}", "title"), ("POST", "/api/v1/subscriptions", "name"),
        ("POST", "/api/v1/events/pull", "max_events"), ("POST", "/api/v1/tasks", "video_id"),
        ("POST", "/api/v1/videos", "title"), ("PUT", "/api/v1/templates/20001", "name"),
        ("GET", "/api/v1/videos", "title"), ("POST", "/api/v1/no/such/path", "name"),
        ("POST", "/login/", "username"), ("POST", "/videos/upload/", "title"),
        ("POST", "/templates/new/", "name"), ("GET", f"/videos/{video}/status.json", "title"),
        ("POST", f"/videos/{video}/rename/", "title"), ("POST", "/notifications/new/", "name"),
    ]


def _auth(operator: dict, path: str, rng: random.Random) -> dict[str, str]:
    if rng.random() < 0.15:
        return {}  # anonymous
    if path.startswith("/api/"):
        return {"Authorization": f"Bearer {operator['token']}"}
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={operator['session']}"}
    if rng.random() < 0.5:
        headers["Accept"] = "application/json"
    return headers


def fuzz_cases(operator: dict, seed: int, count: int) -> list[Raw]:
    rng = random.Random(seed)
    targets = _targets(operator["video"])
    cases = []
    for _ in range(count):
        method, path, name_field = rng.choice(targets)
        headers = _auth(operator, path, rng)
        kind = rng.random()
        if kind < 0.5:
            body = rng.choice(_json_bodies(name_field))
            headers["Content-Type"] = rng.choice(CONTENT_TYPES[:5]) if rng.random() < 0.8 else rng.choice(CONTENT_TYPES)
        elif kind < 0.7:
            headers["Content-Type"], body = rng.choice(MULTIPART)
        elif kind < 0.8:
            headers["Content-Type"], body = "application/x-www-form-urlencoded", rng.choice(FORM_BODIES)
        elif kind < 0.9:
            headers["Content-Type"] = rng.choice(CONTENT_TYPES)
            body = rng.randbytes(rng.choice([1, 17, 512, 4096]))
        else:
            body = b""
        odd = rng.choice(HEADER_ODDITIES)
        headers = {**headers, **odd}
        query = rng.choice(QUERIES) if rng.random() < 0.3 else ""
        if "Host" in odd and rng.random() < 0.5:
            query = ""
        cases.append(Raw(method, path + query, headers, body))
    return cases


# -- the issue's cases, each with its exact answer ------------------------------------------------

def test_deep_nesting_to_any_path_is_a_400_with_the_request_id(server, operator):
    for path in ("/api/v1/templates", "/api/v1/no/such/path", "/login/", "/videos/upload/", "/nowhere/"):
        status, document = check(server, Raw("POST", path, {"Content-Type": "application/json"}, b"[" * 100_000))
        assert status == 400, (path, status)
        if path.startswith("/api/"):
            assert document["code"] == "InvalidParameter" and "nest" in document["message"], document


def test_a_lone_surrogate_in_a_template_name_or_a_title_is_a_400_naming_the_field(server, operator):
    api = {"Authorization": f"Bearer {operator['token']}", "Content-Type": "application/json"}
    status, document = check(server, Raw("POST", "/api/v1/templates", api, b'{"name": "a\\ud800b", "width": 240}'))
    assert (status, document["code"], document["field"]) == (400, "InvalidParameter", "name"), document
    status, document = check(server, Raw("PATCH", f"/api/v1/videos/{operator['video']}", api,
                                         b'{"title": "\\udfff"}'))
    assert (status, document["code"], document["field"]) == (400, "InvalidParameter", "title"), document
    assert Video.objects.get(public_id=operator["video"]).title == "target"


def test_a_json_body_over_the_memory_limit_is_a_413_file_too_large(server, operator):
    big = b'{"name": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}'
    for headers in ({"Authorization": f"Bearer {operator['token']}"}, {}):
        status, document = check(server, Raw("POST", "/api/v1/templates",
                                             {**headers, "Content-Type": "application/json"}, big))
        assert (status, document["code"]) == (413, "FileTooLarge"), document


def test_a_client_still_sending_a_refused_body_reads_the_refusal(server, operator):
    # The 413 is decided from the headers; the client sends the rest of its 3 MB afterwards, as a
    # slow uplink does. The server reads and drops it before answering, so no send fails and the
    # answer arrives (before, the server closed at once and the client got a broken pipe).
    body = b'{"name": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}'
    wire = Raw("POST", "/api/v1/templates", {"Authorization": f"Bearer {operator['token']}",
                                              "Content-Type": "application/json"}, body).wire(
        f"{server['host']}:{server['port']}")
    with socket.create_connection((server["host"], server["port"]), timeout=20) as sock:
        sock.sendall(wire[:64 * 1024])
        time.sleep(1.0)  # the server has answered from the headers by now
        sock.sendall(wire[64 * 1024:])
        status, headers, answer = read_response(sock, 20)
    if "chunked" in headers.get("transfer-encoding", ""):
        answer = _dechunk(answer)
    assert (status, json.loads(answer)["code"]) == (413, "FileTooLarge")
    assert headers.get("x-request-id")


def test_a_multipart_upload_without_a_boundary_is_a_400(server, operator):
    body = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\nabc\r\n--x--\r\n'
    status, document = check(server, Raw("POST", "/api/v1/videos", {
        "Authorization": f"Bearer {operator['token']}", "Content-Type": "multipart/form-data"}, body))
    assert (status, document["code"]) == (400, "InvalidParameter"), document
    status, _ = check(server, Raw("POST", "/videos/upload/", {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={operator['session']}", "Content-Type": "multipart/form-data"},
        body))
    assert status == 400


def test_seeded_raw_requests_never_get_a_5xx_or_an_error_without_a_request_id(server, operator):
    for request in fuzz_cases(operator, SEED, COUNT):
        check(server, request)
    _assert_no_error_logged(server["log"])


def _assert_no_error_logged(log: Path) -> None:
    lines = log.read_text(errors="replace").splitlines()
    bad = [line for line in lines if " ERROR " in line or "Traceback" in line or "CRITICAL" in line]
    assert not bad, "\n".join(bad[:20])
