"""Event notifications: events (written with the state change that causes them), push
subscriptions, their deliveries and every delivery attempt. The pull queue's state lives on the
event itself."""

from __future__ import annotations

import uuid

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.dispatch import Signal
from django.utils import timezone

# Sent inside the transaction of every state change users hear about (an upload ready or failed,
# a task's state, an output finished). media_jobs.callbacks records the event and its deliveries;
# its receiver is connected in MediaJobsConfig.ready(), so the models never import the callbacks.
state_changed = Signal()


def announce(kind: str, video: Any, **subjects: Any) -> None:
    """Tell the receiver (the callbacks' event recorder) about a state change, in this
    transaction. Refuses to drop one silently when nothing listens."""
    if not state_changed.has_listeners():
        raise RuntimeError("no receiver for state changes: is the media_jobs app loaded?")
    state_changed.send(sender=Event, kind=kind, video=video, **subjects)


class Event(models.Model):
    """Something a program may want to hear about, frozen at the moment it happened.

    `tencent` and `alibaba` hold the payload in each vendor's shape (None when the vendor has no
    such event), so a later change to the video or task never alters an event already sent.
    `sequence` counts up per video, so a receiver can order what it gets.

    Pull queue (Tencent's reliable callback): an event with `in_pull_queue` is pullable while it
    is unconfirmed and `pull_visible_at` has passed. A pull gives it a fresh `pull_handle` and
    hides it for PULL_CONFIRM_TIMEOUT seconds; a confirm sets `confirmed_at` and it never
    comes back.
    """

    class Kind(models.TextChoices):
        UPLOAD = "UPLOAD", _("Upload finished")
        OUTPUT = "OUTPUT", _("Animated image finished")
        TASK_FINISH = "TASK_FINISH", _("Task finished")
        TASK_STATE = "TASK_STATE", _("Task state changed")

    event_id = models.UUIDField(unique=True, editable=False, default=uuid.uuid4)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    event_type = models.CharField(max_length=40, help_text="The vendor name, e.g. ProcedureStateChanged.")
    # Set by the code that builds the payloads, so the row and the payloads agree on the time.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Kept when the video is deleted: the event still happened.
    video = models.ForeignKey("media_jobs.Video", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="events")
    video_public_id = models.UUIDField()
    task = models.ForeignKey("media_jobs.Task", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="events")
    animated_image = models.ForeignKey("media_jobs.AnimatedImage", on_delete=models.SET_NULL, null=True,
                                       blank=True, related_name="events")
    sequence = models.PositiveBigIntegerField()
    summary = models.CharField(max_length=200, blank=True)
    tencent = models.JSONField(null=True, blank=True)
    alibaba = models.JSONField(null=True, blank=True)

    in_pull_queue = models.BooleanField(default=False)
    pull_visible_at = models.DateTimeField(null=True, blank=True)
    pull_handle = models.CharField(max_length=64, blank=True, db_index=True)
    pull_count = models.PositiveIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["video_public_id", "sequence"], name="event_sequence_per_video"),
        ]
        indexes = [
            models.Index(fields=["in_pull_queue", "confirmed_at", "id"], name="event_pull_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"

    def payload(self, shape: str) -> dict | None:
        return self.tencent if shape == Subscription.Shape.TENCENT else self.alibaba


class Subscription(models.Model):
    """A receiver URL that gets events pushed to it, signed with its secret.

    While a secret is being rotated, the previous one stays valid until `previous_secret_expires`:
    requests then carry two signatures, one per secret.
    """

    class Shape(models.TextChoices):
        TENCENT = "TENCENT", _("Tencent VOD")
        ALIBABA = "ALIBABA", _("Alibaba VOD")

    public_id = models.UUIDField(unique=True, editable=False, default=uuid.uuid4)
    name = models.CharField(max_length=100)
    url = models.CharField(max_length=2048)
    shape = models.CharField(max_length=8, choices=Shape.choices, default=Shape.TENCENT)
    on_upload = models.BooleanField(default=True)
    on_output = models.BooleanField(default=True)
    on_task_finish = models.BooleanField(default=True)
    on_task_state = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, kind: str) -> bool:
        """Whether this subscription asked for events of this kind ("every task state change"
        includes the final one)."""
        flag = {Event.Kind.UPLOAD: self.on_upload, Event.Kind.OUTPUT: self.on_output,
                Event.Kind.TASK_FINISH: self.on_task_finish or self.on_task_state,
                Event.Kind.TASK_STATE: self.on_task_state}
        return bool(flag.get(kind, False))


class Delivery(models.Model):
    """One event pushed to one subscription.

    States: PENDING (due at `next_attempt_at`; `lease_until` set while a worker is sending) →
    DELIVERED on a 2xx, or FAILED after the retry schedule runs out or on 410 Gone
    (`failure_reason` says which). An operator can put any delivery back to PENDING.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Pending")
        DELIVERED = "DELIVERED", _("Delivered")
        FAILED = "FAILED", _("Failed")

    public_id = models.UUIDField(unique=True, editable=False, default=uuid.uuid4)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    retry_index = models.PositiveIntegerField(default=0, help_text="Failed attempts since the last (re)start.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    rq_job_id = models.CharField(max_length=100, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="delivery_once_per_subscription"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One POST. Written as IN_FLIGHT before the request leaves, completed after the answer; an
    attempt whose worker died in between is marked INTERRUPTED (the receiver may have got it)."""

    class Outcome(models.TextChoices):
        IN_FLIGHT = "IN_FLIGHT", _("In flight")
        SUCCESS = "SUCCESS", _("Delivered")
        FAILED = "FAILED", _("Failed")
        INTERRUPTED = "INTERRUPTED", _("Interrupted")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.IN_FLIGHT)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    signed_timestamp = models.BigIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.outcome}"
