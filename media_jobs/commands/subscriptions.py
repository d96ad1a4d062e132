"""Event subscriptions and the pull queue: their rules live in media_jobs.callbacks (the address
check, the shapes' events, secret rotation, redelivery, leases); these are the actions every front
door calls, so a front door never reaches into media_jobs.callbacks for an action."""

from __future__ import annotations

from media_jobs.callbacks.pull import confirm_events, pull_events
from media_jobs.callbacks.schedule import redeliver, redeliver_failed
from media_jobs.callbacks.subscriptions import rotate_secret, save_subscription
from media_jobs.models import Subscription

__all__ = ["confirm_events", "delete_subscription", "pull_events", "redeliver", "redeliver_failed", "rotate_secret",
           "save_subscription"]


def delete_subscription(subscription: Subscription) -> None:
    """Its delivery log goes with it; the events stay."""
    subscription.delete()
