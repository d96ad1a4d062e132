"""Events: the log (list, get with its deliveries) and the pull queue, Tencent's reliable
callback (`PullEvents` / `ConfirmEvents`)."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router

from console.api import serialize_events as serialize
from console.api.common import DEFAULT_LIMIT, MAX_LIMIT, get, page
from console.api.errors import ApiError
from console.api.event_schemas import (
    ConfirmIn,
    ConfirmOut,
    EventDetailOut,
    EventOut,
    Kind,
    PullIn,
    PullOut,
)
from console.api.schemas import Error, Page
from media_jobs.commands.subscriptions import confirm_events, pull_events
from media_jobs.errors import LoopdeckError

router = Router(tags=["Events"])
ERRORS = {400: Error, 401: Error, 404: Error, 409: Error, 429: Error}


@router.get("", response={200: Page[EventOut], **ERRORS}, summary="List events")
def list_events(request: HttpRequest, video_id: UUID | None = Query(None), kind: Kind | None = Query(None),
                event_type: str | None = Query(None, max_length=40, description="The vendor name, e.g. NewFileUpload."),
                offset: int = Query(0, ge=0, le=10**9), limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    """Newest first. Events are kept 4 days (`EVENT_RETENTION_DAYS`)."""
    events = serialize.events()
    if video_id is not None:
        events = events.filter(video_public_id=video_id)
    if kind is not None:
        events = events.filter(kind=kind)
    if event_type:
        events = events.filter(event_type=event_type)
    return page(events.order_by("-created_at", "-id"), offset, limit, serialize.event)


@router.get("/{uuid:event_id}", response={200: EventDetailOut, **ERRORS}, summary="Get an event")
def get_event(request: HttpRequest, event_id: UUID):
    """Both payload shapes, the pull-queue state, and every push delivery with its attempts."""
    return serialize.event_detail(get(serialize.events(), "event", event_id=event_id))


@router.post("/pull", response={200: PullOut, **ERRORS}, summary="Pull events (PullEvents)")
def pull(request: HttpRequest, payload: PullIn):
    """Upload-finished and task-finished events in Tencent's shape, oldest first, each with an
    `EventHandle`. Long-polls up to `wait_seconds` when none is ready. A pulled event is hidden
    until confirmed; unconfirmed after 30 s (`PULL_CONFIRM_TIMEOUT`) it is handed out again under
    a new handle. While one event of a video is out, that video's later events wait."""
    # No transaction is open here: the wait polls with short autocommitted queries.
    taken = pull_events(payload.max_events, payload.wait_seconds)
    return {"event_set": [serialize.pulled(p) for p in taken]}


@router.post("/confirm", response={200: ConfirmOut, **ERRORS}, summary="Confirm pulled events (ConfirmEvents)")
def confirm(request: HttpRequest, payload: ConfirmIn):
    """Confirmed events never come back. A handle is invalid when it was never given out or its
    event was pulled again since (the confirm came after the timeout and another pull)."""
    try:
        result = confirm_events(payload.event_handles)
    except LoopdeckError as exc:
        raise ApiError.from_encode(exc, "event_handles") from exc
    return {"confirmed": result.confirmed, "invalid": result.invalid}
