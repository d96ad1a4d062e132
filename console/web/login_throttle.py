"""A brake on password guessing at the sign-in forms (the console's and the admin's).

Failed sign-ins are counted in Redis per client address and user name, in a fixed window. Once
LOGIN_FAILURE_LIMIT is reached, further sign-in POSTs from that address for that name get a 429
page with Retry-After until the window ends, before the password is even checked; a successful
sign-in clears the count. Per address and name, so a guesser elsewhere cannot lock the real
operator out. If Redis cannot be reached, sign-in still works (logged): this is a brake, the
proxy in front should also limit requests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from redis.exceptions import RedisError

from media_jobs.jobs import queues

log = logging.getLogger(__name__)


def _key(request: HttpRequest, username: str) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    slot = int(time.time() // settings.LOGIN_FAILURE_WINDOW)
    return f"loopdeck:login-failures:{slot}:{address}:{username.strip().lower()[:150]}"


def _redis():  # a redis.Redis
    return queues.get_queue(queues.LIGHT).connection


@receiver(user_login_failed)
def _count_failure(sender: object, credentials: dict, request: HttpRequest | None = None, **kwargs: object) -> None:
    if request is None:
        return
    try:
        pipe = _redis().pipeline()
        pipe.incr(_key(request, credentials.get("username", "")))
        pipe.expire(_key(request, credentials.get("username", "")), settings.LOGIN_FAILURE_WINDOW + 1)
        pipe.execute()
    except RedisError as exc:
        log.warning("failed sign-ins are not counted: Redis is unreachable (%s)", type(exc).__name__)


@receiver(user_logged_in)
def _clear_failures(sender: object, request: HttpRequest | None = None, user: object = None, **kwargs: object) -> None:
    if request is None or user is None:
        return
    try:
        _redis().delete(_key(request, user.get_username()))
    except RedisError:
        pass


class LoginThrottleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in (reverse(settings.LOGIN_URL), reverse("admin:login")):
            username = request.POST.get("username", "")
            try:
                failures = int(_redis().get(_key(request, username)) or 0)
            except RedisError:
                failures = 0
            if failures >= settings.LOGIN_FAILURE_LIMIT:
                window = settings.LOGIN_FAILURE_WINDOW
                retry_after = max(1, int(window - time.time() % window))
                response = HttpResponse(
                    "<!doctype html><title>Too many sign-in attempts</title><h1>Too many sign-in attempts</h1>"
                    f"<p>Sign-in for this user from your address is paused for {retry_after} seconds after "
                    f"{failures} wrong passwords.</p>", status=429, content_type="text/html; charset=utf-8")
                response["Retry-After"] = str(retry_after)
                return response
        return self.get_response(request)
