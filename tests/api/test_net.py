"""URL safety (media_jobs.net) against real sockets: a local HTTP server started by the test."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from media_jobs import net
from media_jobs.errors import LoopdeckError

REFUSED = [
    "http://127.0.0.1/", "http://localhost:8000/x", "http://0x7f000001/", "http://2130706433/",
    "http://0177.0.0.1/", "http://127.1/", "http://0.0.0.0/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/", "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/",
    "http://172.16.0.1/", "http://192.168.1.10/", "http://100.64.0.1/", "http://224.0.0.1/",
    "http://[fe80::1]/", "http://[fc00::1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::]/",
    "http://255.255.255.255/", "http://0xa9.0xfe.0xa9.0xfe/",
]
MALFORMED = ["ftp://example.com/a.mp4", "file:///etc/passwd", "http:///nohost", "http://user:pw@93.184.216.34/",
             "gopher://93.184.216.34/", "http://93.184.216.34:99999/", "http://exa mple.com/"]


@pytest.fixture
def dl(tmp_path: Path) -> Path:
    """An empty folder for downloads (tmp_path also holds the test's media folder)."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def strict(settings) -> None:  # noqa: ANN001
    settings.ALLOW_PRIVATE_ADDRESSES = False


@pytest.mark.parametrize("url", REFUSED)
def test_non_public_addresses_are_refused_in_every_spelling(url: str, strict: None) -> None:
    with pytest.raises(LoopdeckError) as caught:
        net.check_url(url)
    assert caught.value.code == "InvalidParameter" and caught.value.field == "url"
    assert "non-public" in caught.value.message


@pytest.mark.parametrize("url", MALFORMED)
def test_other_schemes_credentials_and_malformed_urls_are_refused(url: str, strict: None) -> None:
    with pytest.raises(LoopdeckError) as caught:
        net.check_url(url)
    assert caught.value.code == "InvalidParameter"


def test_a_public_address_is_accepted(strict: None) -> None:
    net.check_url("http://93.184.216.34/video.mp4")
    net.check_url("https://[2606:2800:220:1:248:1893:25c8:1946]/v.mp4")


def test_a_name_that_resolves_to_a_private_address_is_refused(strict: None, monkeypatch) -> None:  # noqa: ANN001
    def fake(host, port, *args, **kwargs):  # noqa: ANN001, ANN202
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(LoopdeckError, match="10.0.0.5"):
        net.check_url("http://mixed.example/")


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        status, headers, body = self.routes.get(self.path, (404, {}, b"missing"))
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, dict]]:
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
    httpd.shutdown()
    httpd.server_close()


def test_download_writes_the_whole_file_only(server, dl: Path, settings) -> None:  # noqa: ANN001
    settings.ALLOW_PRIVATE_ADDRESSES = True
    base, routes = server
    routes["/ok.bin"] = (200, {}, b"x" * 300_000)
    routes["/big.bin"] = (200, {}, b"y" * 5000)
    routes["/gone"] = (404, {}, b"no")
    assert net.download(f"{base}/ok.bin", dl / "ok.bin", max_bytes=10**6, timeout=5) == 300_000
    assert (dl / "ok.bin").read_bytes() == b"x" * 300_000
    with pytest.raises(LoopdeckError) as caught:
        net.download(f"{base}/big.bin", dl / "big.bin", max_bytes=1000, timeout=5)
    assert caught.value.code == "ResourceLimitExceeded"
    with pytest.raises(LoopdeckError) as caught:
        net.download(f"{base}/gone", dl / "gone", max_bytes=1000, timeout=5)
    assert caught.value.code == "DownloadFailed" and "404" in caught.value.message
    assert sorted(p.name for p in dl.iterdir()) == ["ok.bin"]


def test_loopback_is_refused_at_connect_time_without_the_setting(server, dl: Path, strict: None) -> None:  # noqa: ANN001
    base, routes = server
    routes["/ok.bin"] = (200, {}, b"data")
    with pytest.raises(LoopdeckError, match="non-public"):
        net.download(f"{base}/ok.bin", dl / "ok.bin", max_bytes=100, timeout=5)
    assert not list(dl.iterdir())


def test_every_redirect_is_checked_again(server, dl: Path, strict: None, monkeypatch) -> None:  # noqa: ANN001
    # Treat the test server's 127.0.0.1 as if it were a public host; everything else stays refused.
    monkeypatch.setattr(net, "is_public", lambda address: str(address) == "127.0.0.1")
    base, routes = server
    port = base.rsplit(":", 1)[1]
    routes["/hop"] = (302, {"Location": "/final"}, b"")
    routes["/final"] = (200, {}, b"arrived")
    routes["/to-metadata"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    routes["/to-other-loopback"] = (301, {"Location": f"http://127.0.0.2:{port}/final"}, b"")
    routes["/loop"] = (302, {"Location": "/loop"}, b"")
    assert net.download(f"{base}/hop", dl / "a", max_bytes=100, timeout=5) == 7
    for path in ("/to-metadata", "/to-other-loopback"):
        with pytest.raises(LoopdeckError, match="non-public"):
            net.download(f"{base}{path}", dl / "b", max_bytes=100, timeout=5)
    with pytest.raises(LoopdeckError, match="redirects"):
        net.download(f"{base}/loop", dl / "c", max_bytes=100, timeout=5)
    assert sorted(p.name for p in dl.iterdir()) == ["a"]


def test_an_answer_that_changes_between_check_and_connect_is_refused(server, strict: None, monkeypatch) -> None:  # noqa: ANN001
    """DNS rebinding: the name is public when checked, loopback when connecting."""
    base, routes = server
    port = int(base.rsplit(":", 1)[1])
    answers = iter(["93.184.216.34", "127.0.0.1"])

    def rebinding(host, p, *args, **kwargs):  # noqa: ANN001, ANN202
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), p))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    net.check_url(f"http://rebind.example:{port}/")
    with pytest.raises(LoopdeckError, match="non-public"):
        net.open_url(f"http://rebind.example:{port}/", timeout=5, max_bytes=100)
