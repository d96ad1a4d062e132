"""Push subscriptions through the API: the secret shown once, rotation, address checks, the
delivery log and redelivery against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import pytest

from console.api.models import ApiAction
from media_jobs.models import Delivery, Subscription
from tests.api.conftest import ApiClient, assert_error
from tests.callbacks.conftest import (  # noqa: F401 - fixtures used by name
    Reply,
    callback_settings,
    drain_callbacks,
    failed_upload,
    receiver,
)

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/subscriptions"
MISSING = "4f0e0e0e-0000-4000-8000-000000000000"


def create(api: ApiClient, url: str, **fields: object) -> dict:
    response = api.post(URL, {"name": "orders", "url": url, **fields})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_shows_the_secret_once(api, api_key, callback_settings, receiver) -> None:  # noqa: F811
    rx = receiver()
    response = api.post(URL, {"name": "orders", "url": rx.url, "shape": "ALIBABA"})
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    body = response.json()
    stored = Subscription.objects.get()
    assert body["secret"] == stored.secret and body["secret"].startswith("whsec_")
    # Flags left out take the defaults, less what the shape cannot carry; counts start at zero.
    assert (body["shape"], body["on_upload"], body["on_output"], body["on_task_finish"], body["on_task_state"]) == (
        "ALIBABA", True, True, False, False)
    assert (body["enabled"], body["pending"], body["failed"], body["url"]) == (True, 0, 0, rx.url)
    assert ApiAction.objects.get(object_type="subscription").api_key == api_key[0]

    for answer in (api.get(f"{URL}/{body['id']}"), api.get(URL)):
        assert answer.status_code == 200
        assert stored.secret not in answer.content.decode() and "secret" not in answer.json()
    assert api.get(URL).json()["items"][0]["id"] == body["id"]


def test_a_retried_create_with_the_same_idempotency_key_makes_one(api, callback_settings, receiver) -> None:  # noqa: F811
    body = {"url": receiver().url}
    first = api.post(URL, body, headers={"Idempotency-Key": "sub-1"})
    again = api.post(URL, body, headers={"Idempotency-Key": "sub-1"})
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert Subscription.objects.count() == 1 and again.json()["id"] == first.json()["id"]


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:8000/hook",
                                 "http://localhost/hook", "http://[::1]/hook", "http://0x7f000001/hook",
                                 "http://10.0.0.5/hook"])
def test_internal_addresses_are_refused_naming_the_url(api, settings, url: str) -> None:
    settings.ALLOW_PRIVATE_ADDRESSES = False
    body = assert_error(api.post(URL, {"url": url}), 400, "InvalidParameter", "url")
    assert "non-public address" in body["message"]
    assert not Subscription.objects.exists()


def test_bad_shapes_are_400s_naming_the_field(api, callback_settings, receiver) -> None:  # noqa: F811
    url = receiver().url
    assert_error(api.post(URL, {"url": url, "shape": "AWS"}), 400, "InvalidParameter", "shape")
    assert_error(api.post(URL, {"name": "x"}), 400, "MissingParameter", "url")
    assert_error(api.post(URL, {"url": ""}), 400, "MissingParameter", "url")
    assert_error(api.post(URL, {"url": "ftp://example.com/hook"}), 400, "InvalidParameter", "url")
    assert_error(api.post(URL, {"url": url, "secret": "mine"}), 400, "InvalidParameter", "secret")
    assert_error(api.post(URL, {"url": url, "on_upload": "perhaps"}), 400, "InvalidParameter", "on_upload")
    assert_error(api.post(URL, ["not", "an", "object"]), 400, "InvalidParameter")
    # The Alibaba shape has no task-finished event: the service's rule, the service's message.
    body = assert_error(api.post(URL, {"url": url, "shape": "ALIBABA", "on_upload": False, "on_output": False}),
                        400, "InvalidParameter", "events")
    assert "Alibaba VOD shape carries" in body["message"]
    assert not Subscription.objects.exists()


def test_update_keeps_what_is_left_out_and_checks_the_url_again(api, settings, callback_settings, receiver) -> None:  # noqa: F811
    created = create(api, receiver().url)
    secret = Subscription.objects.get().secret
    response = api.patch(f"{URL}/{created['id']}", {"name": "renamed", "on_task_state": True, "enabled": False})
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["on_task_state"], body["enabled"], body["url"], body["shape"]) == (
        "renamed", True, False, created["url"], "TENCENT")
    assert "secret" not in body and Subscription.objects.get().secret == secret

    settings.ALLOW_PRIVATE_ADDRESSES = False
    assert_error(api.patch(f"{URL}/{created['id']}", {"url": "http://169.254.169.254/"}), 400, "InvalidParameter", "url")
    assert Subscription.objects.get().url == created["url"]
    assert_error(api.patch(f"{URL}/{created['id']}", {"name": 5}), 400, "InvalidParameter", "name")
    assert_error(api.patch(f"{URL}/{MISSING}", {"name": "x"}), 404, "ResourceNotFound")


def test_a_subscription_whose_address_became_refused_can_be_renamed_and_disabled(
        api, settings, callback_settings, receiver) -> None:  # noqa: F811
    """Issue 14: every edit re-checked the URL, so only delete worked."""
    created = create(api, receiver().url)
    settings.ALLOW_PRIVATE_ADDRESSES = False  # 127.0.0.1 is refused from now on

    response = api.patch(f"{URL}/{created['id']}", {"name": "old receiver", "enabled": False})
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["enabled"]) == ("old receiver", False)
    # The same URL sent back unchanged is not a change either.
    response = api.patch(f"{URL}/{created['id']}", {"url": created["url"], "on_task_state": True})
    assert response.status_code == 200, response.content
    # A new URL is checked, and a refused one is refused.
    assert_error(api.patch(f"{URL}/{created['id']}", {"url": "http://127.0.0.2:9/"}), 400, "InvalidParameter", "url")
    saved = Subscription.objects.get()
    assert (saved.name, saved.enabled, saved.on_task_state, saved.url) == ("old receiver", False, True, created["url"])


def test_rotate_returns_a_new_secret_once_and_the_old_one_overlaps(api, callback_settings, receiver) -> None:  # noqa: F811
    created = create(api, receiver().url)
    response = api.post(f"{URL}/{created['id']}/rotate")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.json()
    stored = Subscription.objects.get()
    assert body["secret"] == stored.secret != created["secret"] and stored.previous_secret == created["secret"]
    assert body["subscription_id"] == created["id"] and body["previous_secret_expires"]
    shown = api.get(f"{URL}/{created['id']}")
    assert stored.secret not in shown.content.decode() and shown.json()["previous_secret_expires"]
    assert_error(api.post(f"{URL}/{MISSING}/rotate"), 404, "ResourceNotFound")


def test_delete_then_the_subscription_is_gone(api, callback_settings, receiver) -> None:  # noqa: F811
    created = create(api, receiver().url)
    assert api.delete(f"{URL}/{created['id']}").status_code == 204
    assert not Subscription.objects.exists()
    assert_error(api.get(f"{URL}/{created['id']}"), 404, "ResourceNotFound")
    assert_error(api.delete(f"{URL}/{created['id']}"), 404, "ResourceNotFound")
    assert_error(api.get(f"{URL}/not-a-uuid"), 404, "ResourceNotFound")


def test_the_delivery_log_and_redelivering_one_event(api, callback_settings, receiver, drain_callbacks) -> None:  # noqa: F811
    rx = receiver(Reply(410, b"gone for now"), Reply(200, b"thanks"))
    sub = create(api, rx.url, shape="ALIBABA")
    event = failed_upload("clip").events.get()
    drain_callbacks(lambda: Delivery.objects.filter(status="FAILED").exists())

    log = api.get(f"{URL}/{sub['id']}/deliveries")
    assert log.status_code == 200 and log.json()["total_count"] == 1
    (delivery,) = log.json()["items"]
    assert (delivery["status"], delivery["event_id"], delivery["event_type"]) == (
        "FAILED", str(event.event_id), "FileUploadComplete")
    (attempt,) = delivery["attempt_log"]
    assert (attempt["number"], attempt["outcome"], attempt["status_code"], attempt["response_excerpt"]) == (
        1, "FAILED", 410, "gone for now")
    assert attempt["latency_ms"] is not None and attempt["started_at"]
    assert api.get(f"{URL}/{sub['id']}").json()["failed"] == 1

    again = api.post(f"{URL}/{sub['id']}/deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 200 and again.json()["status"] == "PENDING"
    drain_callbacks(lambda: Delivery.objects.filter(status="DELIVERED").exists())
    done = api.get(f"{URL}/{sub['id']}/deliveries", {"status": "DELIVERED"}).json()["items"][0]
    assert [(a["number"], a["status_code"], a["response_excerpt"]) for a in done["attempt_log"]] == [
        (1, 410, "gone for now"), (2, 200, "thanks")]
    assert done["attempts"] == 2 and len(rx.received) == 2
    assert rx.received[1].headers["Loopdeck-Event-Id"] == str(event.event_id)
    assert api.get(f"{URL}/{sub['id']}/deliveries", {"status": "FAILED"}).json()["total_count"] == 0
    assert_error(api.get(f"{URL}/{sub['id']}/deliveries", {"status": "LOST"}), 400, "InvalidParameter", "status")


def test_redeliver_every_failed_event_of_a_subscription(api, callback_settings, receiver, drain_callbacks) -> None:  # noqa: F811
    rx = receiver(Reply(410), Reply(410), Reply(200))
    sub = create(api, rx.url)
    other = create(api, receiver(Reply(200)).url, name="other")
    failed_upload("a")
    failed_upload("b")
    drain_callbacks(lambda: Delivery.objects.filter(subscription__public_id=sub["id"], status="FAILED").count() == 2
                    and Delivery.objects.filter(status="PENDING").count() == 0)

    response = api.post(f"{URL}/{sub['id']}/redeliver-failed")
    assert response.status_code == 200 and response.json() == {"queued": 2}
    drain_callbacks(lambda: Delivery.objects.filter(status="DELIVERED").count() == 4)
    assert len(rx.received) == 4
    assert api.post(f"{URL}/{sub['id']}/redeliver-failed").json() == {"queued": 0}

    # A delivery is found only under its own subscription.
    delivery = Delivery.objects.filter(subscription__public_id=other["id"]).first()
    assert_error(api.post(f"{URL}/{sub['id']}/deliveries/{delivery.public_id}/redeliver"), 404, "ResourceNotFound")
    assert_error(api.post(f"{URL}/{MISSING}/redeliver-failed"), 404, "ResourceNotFound")
