"""The callback job: one attempt at delivering an event to a subscription (media_jobs.callbacks
signs, posts, records the attempt and schedules the next one)."""

from __future__ import annotations

from media_jobs.callbacks import delivery


def deliver(delivery_pk: int) -> str:
    """Make one attempt at a delivery. Returns the delivery's status afterwards (or why not)."""
    return delivery.attempt(delivery_pk)
