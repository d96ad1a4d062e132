"""Request and response bodies of the event-notification endpoints: subscriptions, their
deliveries, events and the pull queue.

As in `schemas`, request bodies only check types; the rules (URL safety, which events a shape
carries, pull limits) are the ones `media_jobs.callbacks` enforces for the console too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from console.api.schemas import In
from media_jobs.callbacks.pull import MAX_EVENTS, MAX_WAIT_SECONDS

Shape = Literal["TENCENT", "ALIBABA"]
Kind = Literal["UPLOAD", "OUTPUT", "TASK_FINISH", "TASK_STATE"]
DeliveryStatus = Literal["PENDING", "DELIVERED", "FAILED"]
Outcome = Literal["IN_FLIGHT", "SUCCESS", "FAILED", "INTERRUPTED"]

_FLAGS = {
    "on_upload": "Upload finished (Tencent NewFileUpload / Alibaba FileUploadComplete).",
    "on_output": "Animated image finished (Alibaba DynamicImageComplete).",
    "on_task_finish": "Task finished (Tencent ProcedureStateChanged).",
    "on_task_state": "Every task state change (Tencent ProcedureStateChanged).",
}


# Subscriptions -----------------------------------------------------------------------------

class SubscriptionIn(In):
    """A new subscription. Event flags left out take the defaults: upload, output and task
    finished on, every state change off."""

    name: str = Field("", description="For you, at most 100 characters; the URL is used when empty.")
    url: str = Field(description="http(s) receiver; loopback, private, link-local and metadata addresses are refused.")
    shape: str = Field("TENCENT", description="Payload shape: TENCENT (Tencent VOD) or ALIBABA (Alibaba VOD).")
    on_upload: bool | None = Field(None, description=_FLAGS["on_upload"])
    on_output: bool | None = Field(None, description=_FLAGS["on_output"])
    on_task_finish: bool | None = Field(None, description=_FLAGS["on_task_finish"])
    on_task_state: bool | None = Field(None, description=_FLAGS["on_task_state"])
    enabled: bool = Field(True, description="Disabled subscriptions get no new deliveries.")


class SubscriptionPatchIn(In):
    """Fields left out keep their value."""

    name: str | None = Field(None, description="At most 100 characters; empty: the URL.")
    url: str | None = Field(None, description="http(s) receiver, checked again.")
    shape: str | None = Field(None, description="TENCENT or ALIBABA.")
    on_upload: bool | None = Field(None, description=_FLAGS["on_upload"])
    on_output: bool | None = Field(None, description=_FLAGS["on_output"])
    on_task_finish: bool | None = Field(None, description=_FLAGS["on_task_finish"])
    on_task_state: bool | None = Field(None, description=_FLAGS["on_task_state"])
    enabled: bool | None = None


class SubscriptionOut(Schema):
    id: UUID
    name: str
    url: str
    shape: Shape
    on_upload: bool
    on_output: bool
    on_task_finish: bool
    on_task_state: bool
    enabled: bool
    previous_secret_expires: datetime | None = Field(
        description="While a rotated secret overlaps, requests carry a signature with the old secret until then.")
    pending: int = Field(description="Deliveries still to be sent.")
    delivered: int
    failed: int
    created_at: datetime
    updated_at: datetime


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(description="The signing secret. Shown only in this answer: store it now.")


class SecretOut(Schema):
    subscription_id: UUID
    secret: str = Field(description="The new signing secret. Shown only in this answer.")
    previous_secret_expires: datetime | None = Field(description="The old secret signs too until then.")


# Deliveries --------------------------------------------------------------------------------

class AttemptOut(Schema):
    number: int
    started_at: datetime
    outcome: Outcome
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered.")
    latency_ms: int | None
    response_excerpt: str = Field(description="The start of the receiver's answer (at most 1 KB).")
    error: str
    next_attempt_at: datetime | None = Field(description="When the retry after this attempt was due.")


class DeliveryOut(Schema):
    id: UUID
    event_id: UUID
    event_type: str = Field(description="The event's name in the subscription's payload shape.")
    subscription_id: UUID
    subscription_name: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    failure_reason: str
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[AttemptOut]


class RedeliveredOut(Schema):
    queued: int = Field(description="How many failed deliveries were queued again.")


# Events ------------------------------------------------------------------------------------

class EventOut(Schema):
    event_id: UUID
    kind: Kind
    event_type: str = Field(description="The vendor's name, e.g. ProcedureStateChanged, DynamicImageComplete.")
    video_id: UUID
    task_id: UUID | None
    animated_image_id: UUID | None
    sequence: int = Field(description="Counts up per video: order a video's events by it.")
    summary: str
    created_at: datetime
    tencent: dict[str, Any] | None = Field(description="The payload in Tencent's shape (null: Tencent has none).")
    alibaba: dict[str, Any] | None = Field(description="The payload in Alibaba's shape (null: Alibaba has none).")
    in_pull_queue: bool
    pull_count: int = Field(description="How many times a pull handed it out.")
    confirmed_at: datetime | None


class EventDetailOut(EventOut):
    deliveries: list[DeliveryOut]


# Pull queue --------------------------------------------------------------------------------

class PullIn(In):
    max_events: int = Field(MAX_EVENTS, description=f"1 to {MAX_EVENTS}.")
    wait_seconds: float = Field(MAX_WAIT_SECONDS, description=f"Long-poll up to this long for an event, 0 to {MAX_WAIT_SECONDS:g}.")


class PulledEventOut(Schema):
    event_handle: str = Field(description="Confirm with it within the confirm timeout (30 s by default).")
    event_id: UUID
    event_type: str
    video_id: UUID
    sequence: int
    created_at: datetime
    content: dict[str, Any] = Field(description="Tencent's EventContent: EventHandle, EventType and the event.")


class PullOut(Schema):
    event_set: list[PulledEventOut] = Field(description="Oldest first; empty when nothing came within the wait.")


class ConfirmIn(In):
    event_handles: list[str] = Field(description=f"1 to {MAX_EVENTS} handles from pulls.")


class ConfirmOut(Schema):
    confirmed: list[str] = Field(description="Handles whose events will not come back.")
    invalid: list[str] = Field(description="Handles never given out, or superseded by a later pull of the event.")
