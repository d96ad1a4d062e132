"""Requests per API key in a sliding window, counted in Redis by the `limits` library.

Why `limits` rather than our own counter: its sliding-window counter (a weighted sum of the
current and previous fixed windows, two Redis keys, one Lua call) stops the burst of up to 2x the
limit that a fixed window lets through at a window boundary, and it is maintained and used widely
(Flask-Limiter, SlowAPI). Measured on this machine against the fixed-window INCR it replaced: see
the commit that introduced it."""

from __future__ import annotations

import functools
import logging
import math
import time

import redis
from django.conf import settings
from limits import RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from console.api.errors import ApiError
from media_jobs.errors import ErrorCode
from media_jobs.jobs import queues

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def _limiter(pool: redis.ConnectionPool) -> SlidingWindowCounterRateLimiter:
    # The queues' own connection pool: one Redis, one set of sockets, no second URL to configure.
    return SlidingWindowCounterRateLimiter(RedisStorage("redis://", connection_pool=pool,
                                                        key_prefix="loopdeck:api:rate"))


@functools.lru_cache(maxsize=64)
def _item(limit: int, window: int) -> RateLimitItemPerSecond:
    return RateLimitItemPerSecond(limit, window)


def check(key_id: int) -> None:
    """Count this request against the key; raise 429 with Retry-After once over the limit."""
    limit, window = settings.API_RATE_LIMIT, settings.API_RATE_WINDOW
    if limit <= 0:
        return
    item = _item(limit, window)
    limiter = _limiter(queues.get_queue(queues.LIGHT).connection.connection_pool)
    try:
        allowed = limiter.hit(item, str(key_id))
        if allowed:
            return
        reset_at = limiter.get_window_stats(item, str(key_id)).reset_time
    except redis.exceptions.RedisError as exc:
        # The count lives in Redis; without it the API keeps answering (work is saved in the
        # database and queued once Redis is back) rather than failing every request.
        log.warning("rate limit not checked, Redis unavailable: %s", exc)
        return
    retry_after = max(1, math.ceil(reset_at - time.time()))
    raise ApiError(ErrorCode.REQUEST_LIMIT_EXCEEDED,
                   f"more than {limit} requests in {window} s for this API key; retry in {retry_after} s",
                   headers={"Retry-After": str(retry_after)})
