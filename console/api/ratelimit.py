"""Requests per API key in a fixed window, counted in Redis."""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings

from console.api.errors import ApiError
from media_jobs.jobs import queues
from media_jobs.encode import ErrorCode

log = logging.getLogger(__name__)


def check(key_id: int) -> None:
    """Count this request against the key; raise 429 with Retry-After once over the limit."""
    limit, window = settings.API_RATE_LIMIT, settings.API_RATE_WINDOW
    if limit <= 0:
        return
    now = time.time()
    slot = int(now // window)
    name = f"loopdeck:api:rate:{key_id}:{slot}"
    connection = queues.get_queue(queues.LIGHT).connection
    pipe = connection.pipeline()
    pipe.incr(name)
    pipe.expire(name, window + 1)
    try:
        count, _ = pipe.execute()
    except redis.exceptions.RedisError as exc:
        # The count lives in Redis; without it the API keeps answering (work is saved in the
        # database and queued once Redis is back) rather than failing every request.
        log.warning("rate limit not checked, Redis unavailable: %s", exc)
        return
    if count > limit:
        retry_after = max(1, int((slot + 1) * window - now + 0.999))
        raise ApiError(ErrorCode.REQUEST_LIMIT_EXCEEDED,
                       f"more than {limit} requests in {window} s for this API key; retry in {retry_after} s",
                       headers={"Retry-After": str(retry_after)})
