"""Helpers for the abuse tests: multipart bodies with exactly the file-name bytes a hostile client
sends (the test client's encoder would clean them first), and a real gunicorn serving the test
database, for what only a real HTTP server shows (a 413 before the body is read)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

BOUNDARY = "loopdeck-abuse-" + uuid.uuid4().hex


def multipart(disposition: bytes, content: bytes, fields: dict[str, str] | None = None,
              boundary: str = BOUNDARY) -> tuple[bytes, str]:
    """A body whose file part carries `disposition` verbatim after `form-data; name="file"; `."""
    parts = []
    for name, value in (fields or {}).items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + value.encode() + b"\r\n")
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '.encode() + disposition
                 + b"\r\nContent-Type: video/mp4\r\n\r\n" + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def quoted(name: str) -> bytes:
    """`filename="…"` as a browser writes it: quotes and backslashes escaped, UTF-8 bytes."""
    return b'filename="' + name.replace("\\", "\\\\").replace('"', '\\"').encode("utf-8") + b'"'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """gunicorn with the run command's options (2 threads here) on a free port; yields (host, port)."""
    port = _free_port()
    binary = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    argv = [binary, "console.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2",
            "--timeout", "60", "--chdir", str(settings.BASE_DIR)]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"gunicorn did not start:\n{log.read_text(errors='replace')}") from None
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def read_response(sock: socket.socket, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one HTTP/1.1 answer (Content-Length or until close)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """True when the server ends the connection (EOF or reset) within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
