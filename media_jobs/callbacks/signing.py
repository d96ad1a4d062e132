"""Signatures on callback requests: HMAC-SHA256 over the event id, a timestamp and the raw body.

Headers sent with every POST:
    Loopdeck-Event-Id:   the event's UUID (the same on every retry: receivers de-duplicate on it)
    Loopdeck-Timestamp:  Unix seconds when this attempt was signed (new on every attempt)
    Loopdeck-Signature:  "v1=<hex>", or "v1=<hex> v1=<hex>" while a rotated secret overlaps

signed = f"{event_id}.{timestamp}.".encode() + raw_body; each v1 value is
hex(HMAC-SHA256(secret.encode(), signed)). A receiver recomputes it with its secret, compares in
constant time against any of the v1 values, and rejects timestamps older than a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

EVENT_ID_HEADER = "Loopdeck-Event-Id"
TIMESTAMP_HEADER = "Loopdeck-Timestamp"
SIGNATURE_HEADER = "Loopdeck-Signature"
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, URL-safe, with a recognisable prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `{event_id}.{timestamp}.{body}` under `secret`."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_headers(secrets_in_use: Iterable[str], event_id: str, body: bytes,
                 timestamp: int | None = None) -> dict[str, str]:
    """The three signature headers, one v1 value per secret in use (newest first)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    values = " ".join(f"v1={signature(s, event_id, stamp, body)}" for s in secrets_in_use)
    return {EVENT_ID_HEADER: event_id, TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: values}


def verify(secret: str, headers: Mapping[str, str], body: bytes, tolerance: int = DEFAULT_TOLERANCE,
           now: float | None = None) -> bool:
    """What a receiver does: True when one v1 value matches and the timestamp is recent.

    `headers` may be any case-insensitive mapping (an `http.server` request's headers, Django's
    `request.headers`).
    """
    event_id = headers.get(EVENT_ID_HEADER, "")
    stamp = headers.get(TIMESTAMP_HEADER, "")
    offered = headers.get(SIGNATURE_HEADER, "")
    if not (event_id and stamp.isdigit() and offered):
        return False
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > tolerance:
        return False
    expected = signature(secret, event_id, int(stamp), body)
    return any(
        hmac.compare_digest(expected, value.removeprefix("v1="))
        for value in offered.split() if value.startswith("v1=")
    )
