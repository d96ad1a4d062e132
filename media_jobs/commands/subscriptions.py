"""Event subscriptions: their rules live in media_jobs.callbacks (the address check, the shapes'
events, secret rotation, redelivery); these are the actions every front door calls."""

from __future__ import annotations

from media_jobs.callbacks.schedule import redeliver, redeliver_failed
from media_jobs.callbacks.subscriptions import rotate_secret, save_subscription
from media_jobs.models import Subscription

__all__ = ["delete_subscription", "redeliver", "redeliver_failed", "rotate_secret", "save_subscription"]


def delete_subscription(subscription: Subscription) -> None:
    """Its delivery log goes with it; the events stay."""
    subscription.delete()
