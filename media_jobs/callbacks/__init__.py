"""Event notifications: events written with the state changes that cause them, signed push
delivery to subscribed URLs with retries, and a pull queue (PullEvents / ConfirmEvents).

The functions the console and the JSON API call:
    save_subscription, rotate_secret, check_subscription   (subscriptions)
    redeliver, redeliver_failed                            (schedule)
    pull_events, confirm_events                            (pull)
"""

from media_jobs.callbacks.pull import (
    ConfirmResult,
    PulledEvent,
    confirm_events,
    pull_events,
)
from media_jobs.callbacks.schedule import redeliver, redeliver_failed
from media_jobs.callbacks.subscriptions import (
    check_subscription,
    rotate_secret,
    save_subscription,
)

__all__ = [
    "ConfirmResult",
    "PulledEvent",
    "check_subscription",
    "confirm_events",
    "pull_events",
    "redeliver",
    "redeliver_failed",
    "rotate_secret",
    "save_subscription",
]
