"""Outbound HTTP that cannot be turned against the server (SSRF): URL downloads and callbacks.

Every address a URL leads to must be public. The host is resolved and every answer checked when
the URL is accepted (`check_url`) and again when connecting, and the socket is opened to the very
address that passed the check, so a DNS answer that changes in between (rebinding) cannot reach an
internal service. Redirects are followed by hand and each new URL goes through the same checks.
Refused: loopback, private, link-local (cloud metadata at 169.254.169.254 included), CGNAT,
multicast, reserved and unspecified ranges, in IPv4 or IPv6 (mapped, 6to4, Teredo and NAT64
forms unwrapped), whatever the spelling (`0x7f000001`, `2130706433`, `0177.1`, `[::ffff:7f00:1]`).
The setting `ALLOW_PRIVATE_ADDRESSES` lifts the rule (for tests and closed networks).
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from media_jobs.errors import ErrorCode, LoopdeckError

MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2048
_CHUNK = 64 * 1024
_REDIRECTS = {301, 302, 303, 307, 308}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def private_allowed() -> bool:
    return bool(getattr(settings, "ALLOW_PRIVATE_ADDRESSES", False))


def _unwrap(address: Address) -> Address:
    """The IPv4 address hidden inside an IPv6 one (mapped, 6to4, Teredo, NAT64), if any."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address.sixtofour:
            return address.sixtofour
        if address.teredo:
            return address.teredo[1]
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public(address: Address) -> bool:
    """True when the address is routable on the public internet and not multicast."""
    inner = _unwrap(address)
    for candidate in {address, inner}:
        if (not candidate.is_global or candidate.is_multicast or candidate.is_private
                or candidate.is_loopback or candidate.is_link_local or candidate.is_reserved
                or candidate.is_unspecified):
            return False
        if isinstance(candidate, ipaddress.IPv4Address) and candidate in _CGNAT:
            return False
    return True


def literal_address(host: str) -> Address | None:
    """The address a host names literally, in any spelling the C resolver accepts, else None.

    `inet_aton` reads the old forms (hex, octal, one to four parts) the way libc, and so curl and
    the kernel, would; Python's `ipaddress` alone would call `0x7f000001` a host name.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _refuse(message: str) -> LoopdeckError:
    return LoopdeckError(ErrorCode.INVALID_PARAMETER, message, field="url")


def resolve(host: str, port: int) -> list[Address]:
    """Every address the host resolves to, each checked; raises when one is not public."""
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise _refuse(_("the host %(host)r cannot be resolved") % {"host": host}) from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))
    if not addresses:
        raise _refuse(_("the host %(host)r has no address") % {"host": host})
    if not private_allowed():
        for address in addresses:
            if not is_public(address):
                # Every answer must be public: a mixed answer would let the connection pick.
                raise _refuse(_("the URL points to a non-public address (%(address)s), which is not allowed; "
                                "for local use, start Loopdeck with ALLOW_PRIVATE_ADDRESSES=true")
                              % {"address": address})
    return addresses


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: str) -> Target:
    """Split and check the form of a URL (http or https, a host, no credentials)."""
    if not isinstance(url, str) or not url.strip():
        raise LoopdeckError(ErrorCode.MISSING_PARAMETER, _("a URL is required"), field="url")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(_("the URL is longer than %(n)s characters") % {"n": MAX_URL_LENGTH})
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise _refuse(_("the URL contains spaces or control characters"))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refuse(_("the URL is malformed: %(why)s") % {"why": exc}) from exc
    if parts.scheme not in ("http", "https"):
        raise _refuse(_("only http and https URLs are allowed"))
    if not parts.hostname:
        raise _refuse(_("the URL has no host"))
    if parts.username is not None or parts.password is not None:
        raise _refuse(_("credentials in the URL are not allowed"))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def check_url(url: str) -> None:
    """Accept the URL only if it is http(s) and every address its host resolves to is public."""
    target = parse_url(url)
    resolve(target.host, target.port)


def _safe_connector(host: str) -> Callable[..., socket.socket]:
    """A replacement for `socket.create_connection` that re-resolves, re-checks and connects to
    the checked address itself."""

    def connect(address: tuple[str, int], timeout: float | None = None,
                source_address: tuple[str, int] | None = None) -> socket.socket:
        port = address[1]
        last: OSError | None = None
        for ip in resolve(host, port):
            try:
                return socket.create_connection((str(ip), port), timeout, source_address)
            except OSError as exc:
                last = exc
        raise last or OSError(f"cannot connect to {host}")

    return connect


@dataclass
class Response:
    """An HTTP answer whose body is read on demand, at most `max_bytes`."""

    url: str
    status: int
    headers: dict[str, str]
    raw: http.client.HTTPResponse
    conn: http.client.HTTPConnection
    max_bytes: int
    deadline: float
    read_bytes: int = field(default=0)

    def iter_bytes(self) -> Iterator[bytes]:
        declared = self.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise LoopdeckError(ErrorCode.RESOURCE_LIMIT_EXCEEDED,
                              f"the file is larger than the {self.max_bytes} byte limit", field="url")
        while True:
            if time.monotonic() > self.deadline:
                raise LoopdeckError(ErrorCode.DOWNLOAD_FAILED, "the download took too long", field="url")
            chunk = self.raw.read(_CHUNK)
            if not chunk:
                return
            self.read_bytes += len(chunk)
            if self.read_bytes > self.max_bytes:
                raise LoopdeckError(ErrorCode.RESOURCE_LIMIT_EXCEEDED,
                                  f"the file is larger than the {self.max_bytes} byte limit", field="url")
            yield chunk

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Response":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _request(target: Target, method: str, body: bytes | None, headers: dict[str, str],
             timeout: float) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = http.client.HTTPSConnection(target.host, target.port, timeout=timeout,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    conn._create_connection = _safe_connector(target.host)  # type: ignore[attr-defined]
    try:
        conn.request(method, target.path, body=body, headers={"User-Agent": "Loopdeck", **headers})
        return conn, conn.getresponse()
    except LoopdeckError:
        conn.close()
        raise
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        conn.close()
        raise LoopdeckError(ErrorCode.DOWNLOAD_FAILED, f"cannot reach {target.host}: {exc}", field="url") from exc


def open_url(url: str, timeout: float, max_bytes: int, method: str = "GET", body: bytes | None = None,
             headers: dict[str, str] | None = None, follow_redirects: bool = True,
             total_timeout: float | None = None) -> Response:
    """Send one request (following up to MAX_REDIRECTS redirects, each re-checked) and return
    the response with its body unread. `timeout` bounds each socket operation, `total_timeout`
    (default 10 × timeout) the whole exchange including the body."""
    deadline = time.monotonic() + (total_timeout if total_timeout is not None else timeout * 10)
    for _ in range(MAX_REDIRECTS + 1):
        target = parse_url(url)
        conn, raw = _request(target, method, body, headers or {}, timeout)
        response = Response(url, raw.status, {k.lower(): v for k, v in raw.getheaders()}, raw, conn,
                            max_bytes, deadline)
        location = response.headers.get("location")
        if not (follow_redirects and raw.status in _REDIRECTS and location):
            return response
        response.close()
        url = urljoin(url, location)
        if raw.status == 303 or (raw.status in (301, 302) and method == "POST"):
            method, body = "GET", None
    raise LoopdeckError(ErrorCode.DOWNLOAD_FAILED, f"more than {MAX_REDIRECTS} redirects", field="url")


def download(url: str, dest: Path, max_bytes: int, timeout: float, total_timeout: float | None = None) -> int:
    """Fetch the URL into `dest` and return its size. Only a complete file appears at `dest`:
    the body goes to a temporary name beside it and is renamed at the end."""
    dest = Path(dest)
    partial = dest.with_name(f".partial-{dest.name}")
    with open_url(url, timeout, max_bytes, total_timeout=total_timeout) as response:
        if not 200 <= response.status < 300:
            raise LoopdeckError(ErrorCode.DOWNLOAD_FAILED, f"the server answered HTTP {response.status}", field="url")
        try:
            with partial.open("wb") as handle:
                for chunk in response.iter_bytes():
                    handle.write(chunk)
            os.replace(partial, dest)
        except (OSError, http.client.HTTPException) as exc:
            partial.unlink(missing_ok=True)
            raise LoopdeckError(ErrorCode.DOWNLOAD_FAILED, f"the download broke off: {exc}", field="url") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return response.read_bytes
