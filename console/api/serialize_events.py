"""Subscriptions, deliveries and events to API dictionaries (the shapes in `event_schemas`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from media_jobs.callbacks import PulledEvent
from media_jobs.models import Delivery, DeliveryAttempt, Event, Subscription


def subscriptions() -> QuerySet[Subscription]:
    """Subscriptions with their delivery counts by status."""
    return Subscription.objects.annotate(**{
        status.lower(): Count("deliveries", filter=Q(deliveries__status=status)) for status in Delivery.Status.values
    })


def subscription(s: Subscription) -> dict[str, Any]:
    return {
        "id": s.public_id, "name": s.name, "url": s.url, "shape": s.shape, "on_upload": s.on_upload,
        "on_output": s.on_output, "on_task_finish": s.on_task_finish, "on_task_state": s.on_task_state,
        "enabled": s.enabled, "previous_secret_expires": s.previous_secret_expires,
        "pending": getattr(s, "pending", 0), "delivered": getattr(s, "delivered", 0),
        "failed": getattr(s, "failed", 0), "created_at": s.created_at, "updated_at": s.updated_at,
    }


def deliveries() -> QuerySet[Delivery]:
    """Deliveries with what their answers show: the event, the subscription, the attempt log."""
    return Delivery.objects.select_related("event", "subscription").prefetch_related(
        Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number")))


def delivery(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.public_id, "event_id": d.event.event_id,
        # The name in the shape this subscription receives (FileUploadComplete, not NewFileUpload).
        "event_type": (d.event.payload(d.subscription.shape) or {}).get("EventType", d.event.event_type),
        "subscription_id": d.subscription.public_id, "subscription_name": d.subscription.name,
        "status": d.status, "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
        "last_status_code": d.last_status_code, "last_error": d.last_error, "failure_reason": d.failure_reason,
        "created_at": d.created_at, "finished_at": d.finished_at,
        "attempt_log": [
            {"number": a.number, "started_at": a.started_at, "outcome": a.outcome, "status_code": a.status_code,
             "latency_ms": a.latency_ms, "response_excerpt": a.response_excerpt, "error": a.error,
             "next_attempt_at": a.next_attempt_at}
            for a in d.attempt_log.all()
        ],
    }


def events() -> QuerySet[Event]:
    return Event.objects.select_related("task", "animated_image")


def event(e: Event) -> dict[str, Any]:
    return {
        "event_id": e.event_id, "kind": e.kind, "event_type": e.event_type, "video_id": e.video_public_id,
        "task_id": e.task.task_id if e.task_id else None,
        "animated_image_id": e.animated_image.public_id if e.animated_image_id else None,
        "sequence": e.sequence, "summary": e.summary, "created_at": e.created_at, "tencent": e.tencent,
        "alibaba": e.alibaba, "in_pull_queue": e.in_pull_queue, "pull_count": e.pull_count,
        "confirmed_at": e.confirmed_at,
    }


def event_detail(e: Event) -> dict[str, Any]:
    return {**event(e), "deliveries": [delivery(d) for d in deliveries().filter(event=e).order_by("id")]}


def pulled(p: PulledEvent) -> dict[str, Any]:
    return {"event_handle": p.handle, "event_id": p.event_id, "event_type": p.event_type, "video_id": p.video_id,
            "sequence": p.sequence, "created_at": p.created_at, "content": p.content}
