"""Push delivery against a real HTTP receiver: retries, timeouts, redirects, 410, Retry-After,
signatures, redelivery, lost jobs and a worker killed after the receiver answered."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.db import connections
from django.utils import timezone

from media_jobs.callbacks import (
    redeliver,
    redeliver_failed,
    rotate_secret,
    save_subscription,
    signing,
)
from media_jobs.jobs.deliver import deliver
from media_jobs.callbacks.schedule import parse_retry_after
from media_jobs.models import Delivery, DeliveryAttempt, Event, Subscription
from media_jobs.jobs.reconcile import reconcile
from tests.callbacks.conftest import Reply, failed_upload

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(url: str, shape: str = Subscription.Shape.ALIBABA, **flags: bool) -> tuple[Subscription, str]:
    return save_subscription(None, name="receiver", url=url, shape=shape, **flags)


def settled(delivery: Delivery):
    def done() -> bool:
        delivery.refresh_from_db()
        return delivery.status != Delivery.Status.PENDING
    return done


def test_three_500s_then_200_is_one_delivery_with_four_signed_attempts(callback_settings, receiver, drain_callbacks):
    target = receiver(Reply(500, b"boom"), Reply(500), Reply(500), Reply(200, b"thanks"))
    subscription, secret = subscribe(target.url)
    video = failed_upload()
    delivery = Delivery.objects.get(subscription=subscription)

    drain_callbacks(settled(delivery))

    assert delivery.status == Delivery.Status.DELIVERED and delivery.attempts == 4
    attempts = list(delivery.attempt_log.order_by("number"))
    assert [a.status_code for a in attempts] == [500, 500, 500, 200]
    assert [a.outcome for a in attempts] == ["FAILED"] * 3 + ["SUCCESS"]
    assert attempts[0].response_excerpt == "boom" and attempts[3].response_excerpt == "thanks"
    assert all(a.latency_ms is not None and a.latency_ms < 1000 for a in attempts)
    assert all(a.next_attempt_at for a in attempts[:3]) and attempts[3].next_attempt_at is None
    assert len(target.received) == 4
    event = Event.objects.get(video_public_id=video.public_id)
    # The same event id on every attempt, a fresh signature each time, all of them valid.
    assert {r.headers["Loopdeck-Event-Id"] for r in target.received} == {str(event.event_id)}
    assert all(signing.verify(secret, r.headers, r.body) for r in target.received)
    assert not signing.verify("whsec_wrong", target.received[0].headers, target.received[0].body)
    tampered = target.received[0].body.replace(b"fail", b"FAIL")
    assert not signing.verify(secret, target.received[0].headers, tampered)
    body = target.received[-1].json
    assert body["EventType"] == "FileUploadComplete" and body["Status"] == "fail"
    assert body["ErrorCode"] == "InvalidVideoFormat" and body["EventId"] == str(event.event_id)
    # Retries wait for the schedule (0.2 s) between attempts.
    gaps = [b.at - a.at for a, b in zip(target.received, target.received[1:])]
    assert all(gap >= 0.18 for gap in gaps)


def test_a_receiver_that_hangs_is_cut_off_at_the_timeout_and_retried(callback_settings, receiver, drain_callbacks):
    callback_settings.CALLBACK_RETRY_SCHEDULE = [0.2]
    target = receiver(Reply(200, delay=3.0), Reply(200))
    subscription, _ = subscribe(target.url)
    failed_upload()
    delivery = Delivery.objects.get(subscription=subscription)

    started = time.monotonic()
    drain_callbacks(settled(delivery))

    first, second = delivery.attempt_log.order_by("number")
    assert first.outcome == "FAILED" and first.status_code is None and "timed out" in first.error
    assert 900 <= first.latency_ms < 2500
    assert second.outcome == "SUCCESS" and delivery.status == Delivery.Status.DELIVERED
    assert time.monotonic() - started < 3.0  # the worker did not wait for the hung answer


def test_a_redirect_is_not_followed_and_counts_as_a_failure(callback_settings, receiver, drain_callbacks):
    callback_settings.CALLBACK_RETRY_SCHEDULE = [0.1]
    elsewhere = receiver()
    target = receiver(Reply(302, headers={"Location": elsewhere.url}))
    subscription, _ = subscribe(target.url)
    failed_upload()
    delivery = Delivery.objects.get(subscription=subscription)

    drain_callbacks(settled(delivery))

    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 2
    assert "gave up after 2 failed attempts" in delivery.failure_reason
    attempt = delivery.attempt_log.first()
    assert attempt.status_code == 302 and "redirects are not followed" in attempt.error
    assert elsewhere.url in attempt.error
    assert elsewhere.connections == 0


def test_410_gone_stops_at_once(callback_settings, receiver, drain_callbacks):
    target = receiver(Reply(410, b"unsubscribed"))
    subscription, _ = subscribe(target.url)
    failed_upload()
    delivery = Delivery.objects.get(subscription=subscription)

    drain_callbacks(settled(delivery))
    time.sleep(0.4)  # longer than a retry interval: nothing more is sent
    drain_callbacks(lambda: True)

    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert "410 Gone" in delivery.failure_reason
    assert len(target.received) == 1


def test_429_with_retry_after_postpones_the_retry_up_to_the_cap(callback_settings, receiver, drain_callbacks):
    callback_settings.CALLBACK_RETRY_AFTER_MAX = 1.5
    target = receiver(Reply(429, headers={"Retry-After": "1"}), Reply(503, headers={"Retry-After": "3600"}),
                      Reply(200))
    subscription, _ = subscribe(target.url)
    failed_upload()
    delivery = Delivery.objects.get(subscription=subscription)

    drain_callbacks(settled(delivery), timeout=15)

    first, second, third = target.received
    assert 0.95 <= second.at - first.at < 1.6  # Retry-After 1 s beats the 0.2 s schedule
    assert 1.45 <= third.at - second.at < 2.2  # an hour asked for, capped at 1.5 s
    assert delivery.status == Delivery.Status.DELIVERED and delivery.attempts == 3
    a1 = delivery.attempt_log.order_by("number").first()
    assert (a1.next_attempt_at - a1.started_at) >= timedelta(seconds=1)


def test_retry_after_as_an_http_date():
    now = timezone.now()
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == pytest.approx(90, abs=1)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("soon", now) is None


def test_exhausted_delivery_is_failed_then_redelivered_by_the_operator(callback_settings, receiver, drain_callbacks):
    target = receiver(Reply(500))
    subscription, secret = subscribe(target.url)
    failed_upload("one")
    failed_upload("two")

    drain_callbacks(lambda: not Delivery.objects.filter(status=Delivery.Status.PENDING).exists())
    assert Delivery.objects.filter(status=Delivery.Status.FAILED).count() == 2
    assert all(d.attempts == 4 for d in Delivery.objects.all())  # the first try and three retries
    assert len(target.received) == 8

    target.replies = [Reply(200)]  # the receiver is fixed
    assert redeliver_failed(subscription) == 2
    drain_callbacks(lambda: not Delivery.objects.filter(status=Delivery.Status.PENDING).exists())

    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.DELIVERED}
    assert DeliveryAttempt.objects.count() == 10
    assert all(signing.verify(secret, r.headers, r.body) for r in target.received)
    # Redelivering a delivered event sends it once more, same event id.
    delivery = Delivery.objects.first()
    redeliver(delivery)
    drain_callbacks(settled(delivery))
    assert delivery.attempts == 6 and target.received[-1].headers["Loopdeck-Event-Id"] == str(delivery.event.event_id)


def test_during_a_rotation_both_secrets_verify(callback_settings, receiver, drain_callbacks):
    target = receiver()
    subscription, old = subscribe(target.url)
    new = rotate_secret(subscription, overlap_hours=1)
    failed_upload()

    drain_callbacks(lambda: len(target.received) == 1)

    request = target.received[0]
    assert request.headers["Loopdeck-Signature"].count("v1=") == 2
    assert signing.verify(new, request.headers, request.body) and signing.verify(old, request.headers, request.body)
    # Once the overlap is over only the new secret signs.
    Subscription.objects.filter(pk=subscription.pk).update(previous_secret_expires=timezone.now())
    failed_upload("later")
    drain_callbacks(lambda: len(target.received) == 2)
    later = target.received[1]
    assert signing.verify(new, later.headers, later.body) and not signing.verify(old, later.headers, later.body)


def test_stale_timestamps_are_rejected_by_the_verifier(callback_settings, receiver, drain_callbacks):
    target = receiver()
    _, secret = subscribe(target.url)
    failed_upload()
    drain_callbacks(lambda: len(target.received) == 1)
    request = target.received[0]
    assert signing.verify(secret, request.headers, request.body)
    assert not signing.verify(secret, request.headers, request.body, now=time.time() + 301)


def test_a_lost_job_is_sent_by_the_reconciler(callback_settings, receiver, redis_conn, drain_callbacks):
    target = receiver()
    subscription, _ = subscribe(target.url)
    failed_upload()
    redis_conn.flushdb()  # Redis lost the queued job
    delivery = Delivery.objects.get(subscription=subscription)
    time.sleep(0.6)  # past RECONCILE_INTERVAL

    report = reconcile()

    assert report.deliveries_requeued == [delivery.pk]
    drain_callbacks(settled(delivery))
    assert delivery.status == Delivery.Status.DELIVERED and len(target.received) == 1


def _answer_then_stall(sender_pid: list[int]):
    """A receiver hook: send 200 and half the body, then kill the sending process, which is
    blocked reading the rest, before it can record the answer."""

    def hook(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        handler.wfile.write(b"received")
        handler.wfile.flush()
        time.sleep(0.2)
        os.kill(sender_pid[0], signal.SIGKILL)

    return hook


def test_worker_killed_after_a_2xx_resends_the_same_event(callback_settings, receiver, drain_callbacks):
    sender_pid: list[int] = []
    target = receiver(Reply(hook=_answer_then_stall(sender_pid)), Reply(200))
    subscription, secret = subscribe(target.url)
    failed_upload()
    delivery = Delivery.objects.get(subscription=subscription)

    connections.close_all()  # the child must open its own database connection
    child = multiprocessing.get_context("fork").Process(target=deliver, args=(delivery.pk,))
    child.start()
    sender_pid.append(child.pid)
    child.join(10)
    assert child.exitcode == -signal.SIGKILL

    # The receiver got the event, but we never learnt it: still pending, attempt in flight.
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING and len(target.received) == 1
    assert delivery.attempt_log.get().outcome == DeliveryAttempt.Outcome.IN_FLIGHT
    # Once the worker's lease runs out (moved forward here rather than waited for), the
    # reconciler sends it again: at least once, never lost.
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert reconcile().deliveries_requeued == [delivery.pk]
    drain_callbacks(settled(delivery))

    assert delivery.status == Delivery.Status.DELIVERED
    first, second = target.received
    assert first.headers["Loopdeck-Event-Id"] == second.headers["Loopdeck-Event-Id"]
    assert first.headers["Loopdeck-Timestamp"] <= second.headers["Loopdeck-Timestamp"]
    assert all(signing.verify(secret, r.headers, r.body) for r in target.received)
    # A receiver that de-duplicates by event id processes it once.
    processed = {r.headers["Loopdeck-Event-Id"] for r in target.received}
    assert len(processed) == 1
    outcomes = list(delivery.attempt_log.order_by("number").values_list("outcome", flat=True))
    assert outcomes == [DeliveryAttempt.Outcome.INTERRUPTED, DeliveryAttempt.Outcome.SUCCESS]


def readme_verifier():
    """The verification snippet from the README's "Event notifications" section, as a function."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Event notifications", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


def test_the_readme_snippet_verifies_real_requests(callback_settings, receiver, drain_callbacks):
    verify = readme_verifier()
    target = receiver()
    subscription, old = subscribe(target.url)
    new = rotate_secret(subscription, overlap_hours=1)
    failed_upload()
    drain_callbacks(lambda: len(target.received) == 1)
    request = target.received[0]
    assert verify(old, request.headers, request.body) and verify(new, request.headers, request.body)
    assert not verify(new, request.headers, request.body + b" ")
    assert not verify("whsec_other", request.headers, request.body)
