"""The pull queue (Tencent's reliable callback: `PullEvents` / `ConfirmEvents`).

Every upload-finished and task-finished event enters the queue in Tencent's shape. A pull
long-polls up to 5 s and returns up to 16 events, each with a fresh handle; an event is then
hidden for PULL_CONFIRM_TIMEOUT (30 s) and comes back unless confirmed. Order per video holds
because at most one event of a video is out at a time, in one batch or across batches: its next
event is handed out only once the one before is confirmed. (Handing out several let a client
confirm a later one while the earlier came back after the timeout, out of order.)
Unconfirmed events are kept EVENT_RETENTION_DAYS (4 days), then purged by the reconciler.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.models import Event

MAX_EVENTS = 16
MAX_WAIT_SECONDS = 5.0
POLL_INTERVAL = 0.2
# How many unconfirmed events one pull looks through to find the ones it may hand out.
SCAN_LIMIT = 1000


@dataclass(frozen=True)
class PulledEvent:
    """One event handed out by a pull. `content` is Tencent's `EventContent` (with `EventHandle`)."""

    handle: str
    event_id: str
    event_type: str
    sequence: int
    video_id: str
    created_at: datetime
    content: dict[str, Any]


@dataclass
class ConfirmResult:
    """Handles that are now confirmed, and handles that are not current: never given out, or
    their event was pulled again since under a new handle (that confirm came too late)."""

    confirmed: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def _check_pull(max_events: int, wait_seconds: float) -> None:
    if not isinstance(max_events, int) or not 1 <= max_events <= MAX_EVENTS:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, _("max_events must be 1 to %(n)s") % {"n": MAX_EVENTS}, field="max_events")
    if not 0 <= wait_seconds <= MAX_WAIT_SECONDS:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, _("wait_seconds must be 0 to %(n)s") % {"n": f"{MAX_WAIT_SECONDS:g}"},
                          field="wait_seconds")


def _take(max_events: int) -> list[PulledEvent]:
    now = timezone.now()
    hide_until = now + timedelta(seconds=settings.PULL_CONFIRM_TIMEOUT)
    candidates = Event.objects.filter(in_pull_queue=True, confirmed_at__isnull=True).order_by("id").only(
        "id", "event_id", "event_type", "sequence", "video_public_id", "created_at", "tencent", "pull_visible_at",
    )[:SCAN_LIMIT]
    blocked: set = set()
    taken: list[PulledEvent] = []
    for event in candidates:
        if len(taken) >= max_events:
            break
        video = event.video_public_id
        if video in blocked:
            continue
        if event.pull_visible_at is None or event.pull_visible_at > now:
            blocked.add(video)  # an event of this video is out: keep the rest back
            continue
        handle = secrets.token_urlsafe(24)
        # Conditional update: of two concurrent pulls, only one gets the event.
        won = Event.objects.filter(pk=event.pk, confirmed_at__isnull=True,
                                   pull_visible_at=event.pull_visible_at).update(
            pull_handle=handle, pull_visible_at=hide_until, pull_count=F("pull_count") + 1,
        )
        blocked.add(video)  # this one is out now: the video's later events wait for its confirm
        if not won:
            continue
        taken.append(PulledEvent(
            handle=handle, event_id=str(event.event_id), event_type=event.event_type, sequence=event.sequence,
            video_id=str(video), created_at=event.created_at, content={"EventHandle": handle, **(event.tencent or {})},
        ))
    return taken


def pull_events(max_events: int = MAX_EVENTS, wait_seconds: float = MAX_WAIT_SECONDS) -> list[PulledEvent]:
    """Up to `max_events` pullable events, oldest first; waits up to `wait_seconds` for one."""
    _check_pull(max_events, wait_seconds)
    deadline = time.monotonic() + wait_seconds
    while True:
        taken = _take(max_events)
        if taken or time.monotonic() >= deadline:
            return taken
        time.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))


def confirm_events(handles: Iterable[str]) -> ConfirmResult:
    """Confirm pulled events by handle so they never come back.

    A confirm that arrives after the timeout still counts while nobody has pulled the event
    again (its handle is still the current one); otherwise the handle is reported invalid.
    """
    handles = list(dict.fromkeys(h for h in handles if isinstance(h, str) and h))
    if not handles:
        raise LoopdeckError(ErrorCode.MISSING_PARAMETER, _("give at least one event handle"), field="handles")
    if len(handles) > MAX_EVENTS:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, _("at most %(n)s handles per call") % {"n": MAX_EVENTS}, field="handles")
    result = ConfirmResult()
    now = timezone.now()
    for handle in handles:
        if Event.objects.filter(pull_handle=handle, confirmed_at__isnull=True).update(
                confirmed_at=now, pull_visible_at=None):
            result.confirmed.append(handle)
        elif Event.objects.filter(pull_handle=handle).exists():
            result.confirmed.append(handle)  # confirmed before: confirming twice is harmless
        else:
            result.invalid.append(handle)
    return result
