"""The RQ job that pushes one event to one subscription.

One attempt: claim the delivery with a lease, log an IN_FLIGHT attempt, POST the JSON payload
(signed, fixed timeout, redirects not followed, the URL's address re-checked at connect time),
then record the answer and decide: DELIVERED on 2xx, FAILED on 410 Gone or when the schedule
runs out, otherwise due again after the next interval (or the receiver's Retry-After).
"""

from __future__ import annotations

import http.client
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from media_jobs import net
from media_jobs.callbacks import schedule, signing
from media_jobs.errors import LoopdeckError
from media_jobs.models import Delivery, DeliveryAttempt, Subscription

log = logging.getLogger(__name__)

EXCERPT_BYTES = 1024
# RQ's scheduler keeps due times in whole seconds, so a job may start up to a second early:
# it waits that out rather than miss its turn.
EARLY_WAIT = timedelta(seconds=2)


@dataclass
class Answer:
    """What one POST produced."""

    status_code: int | None = None
    latency_ms: int | None = None
    excerpt: str = ""
    error: str = ""
    retry_after: str | None = None
    location: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error


def secrets_in_use(subscription: Subscription) -> list[str]:
    """The current secret, then the previous one while its overlap lasts."""
    in_use = [subscription.secret]
    expires = subscription.previous_secret_expires
    if subscription.previous_secret and expires and expires > timezone.now():
        in_use.append(subscription.previous_secret)
    return in_use


def request_body(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST once. Never raises for the receiver's behaviour: errors come back in the answer."""
    answer = Answer()
    started = time.monotonic()
    try:
        with net.open_url(url, timeout=timeout, max_bytes=EXCERPT_BYTES, method="POST", body=body,
                          headers={"Content-Type": "application/json", **headers},
                          follow_redirects=False, total_timeout=timeout) as response:
            answer.latency_ms = int((time.monotonic() - started) * 1000)
            answer.status_code = response.status
            answer.retry_after = response.headers.get("retry-after")
            answer.location = response.headers.get("location", "")[:500]
            try:
                answer.excerpt = response.raw.read(EXCERPT_BYTES).decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as exc:
                answer.excerpt = f"(the body could not be read: {exc})"
    except LoopdeckError as exc:
        answer.error = exc.message
    if answer.latency_ms is None:
        answer.latency_ms = int((time.monotonic() - started) * 1000)
    if answer.status_code is not None and 300 <= answer.status_code < 400:
        target = f" (Location: {answer.location})" if answer.location else ""
        answer.error = f"HTTP {answer.status_code}: redirects are not followed{target}"
    elif answer.status_code is not None and not answer.ok:
        answer.error = f"HTTP {answer.status_code}"
    return answer


def _wait_until_due(delivery_pk: int) -> bool:
    """Sleep out a start slightly ahead of the due time. False when the delivery is not due
    soon (a stale job, or one released far too early: the current job or the reconciler will
    send it)."""
    due = Delivery.objects.filter(pk=delivery_pk, status=Delivery.Status.PENDING).values_list(
        "next_attempt_at", flat=True).first()
    if due is None:
        return False
    early = due - timezone.now()
    if early > EARLY_WAIT:
        return False
    if early.total_seconds() > 0:
        time.sleep(early.total_seconds())
    return True


def _claim(delivery_pk: int) -> Delivery | None:
    if not _wait_until_due(delivery_pk):
        return None
    now = timezone.now()
    won = Delivery.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        pk=delivery_pk, status=Delivery.Status.PENDING, next_attempt_at__lte=now,
    ).update(lease_until=now + timedelta(seconds=schedule.lease_seconds()), attempts=F("attempts") + 1)
    if not won:
        return None
    return Delivery.objects.select_related("event", "subscription").get(pk=delivery_pk)


def attempt(delivery_pk: int) -> str:
    """Make one attempt at a delivery. Returns the delivery's status afterwards (or why not)."""
    close_old_connections()
    delivery = _claim(delivery_pk)
    if delivery is None:
        return "not-due"
    subscription = delivery.subscription
    payload = delivery.event.payload(subscription.shape)
    body = request_body(payload or {})
    headers = signing.sign_headers(secrets_in_use(subscription), str(delivery.event.event_id), body)
    headers.update({"Loopdeck-Event-Type": delivery.event.event_type,
                    "Loopdeck-Delivery-Id": str(delivery.public_id), "Loopdeck-Attempt": str(delivery.attempts)})
    attempt = DeliveryAttempt.objects.create(
        delivery=delivery, number=delivery.attempts, started_at=timezone.now(),
        signed_timestamp=int(headers[signing.TIMESTAMP_HEADER]),
    )
    answer = post(subscription.url, body, headers, settings.CALLBACK_TIMEOUT)
    return _record(delivery, attempt, answer)


def _record(delivery: Delivery, attempt: DeliveryAttempt, answer: Answer) -> str:
    now = timezone.now()
    with transaction.atomic():
        current = Delivery.objects.select_for_update().get(pk=delivery.pk)
        attempt.outcome = DeliveryAttempt.Outcome.SUCCESS if answer.ok else DeliveryAttempt.Outcome.FAILED
        attempt.status_code = answer.status_code
        attempt.latency_ms = answer.latency_ms
        attempt.response_excerpt = answer.excerpt[:EXCERPT_BYTES]
        attempt.error = answer.error[:2000]
        changes: dict = {"lease_until": None, "last_status_code": answer.status_code, "last_error": attempt.error}
        if current.status != Delivery.Status.PENDING or current.lease_until != delivery.lease_until:
            # Our lease ran out and the delivery was taken back (and maybe claimed again by
            # another worker): log this attempt, change nothing else.
            attempt.save()
            return current.status
        if answer.ok:
            changes.update(status=Delivery.Status.DELIVERED, finished_at=now, next_attempt_at=None)
        elif answer.status_code == 410:
            changes.update(status=Delivery.Status.FAILED, finished_at=now, next_attempt_at=None,
                           failure_reason="the receiver answered 410 Gone: it asked us to stop")
        else:
            retry_index = current.retry_index + 1
            delay = schedule.next_delay(retry_index, schedule.parse_retry_after(answer.retry_after, now))
            if delay is None:
                changes.update(status=Delivery.Status.FAILED, finished_at=now, next_attempt_at=None,
                               retry_index=retry_index,
                               failure_reason=f"gave up after {retry_index} failed attempts: {attempt.error}")
            else:
                due = now + timedelta(seconds=delay)
                attempt.next_attempt_at = due
                changes.update(retry_index=retry_index, next_attempt_at=due)
        attempt.save()
        Delivery.objects.filter(pk=delivery.pk).update(**changes)
        current.refresh_from_db()
        if current.status == Delivery.Status.PENDING:
            schedule.enqueue(current, at=current.next_attempt_at)
    if answer.error:
        log.info("delivery %s attempt %s failed: %s", delivery.public_id, attempt.number, answer.error)
    return current.status
