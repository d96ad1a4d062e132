"""The Notifications pages: subscriptions, the secret shown once, rotation, delivery logs and
redelivery, against a real receiver."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from media_jobs.callbacks import save_subscription
from media_jobs.models import Delivery, Event, Subscription
from tests.callbacks.conftest import Reply, failed_upload

pytestmark = pytest.mark.django_db(transaction=True)

FORM = {"name": "orders", "shape": "ALIBABA", "on_upload": "on", "on_output": "on", "enabled": "on"}


def shown_secret(html: str) -> str:
    match = re.search(r'id="secret"[^>]*value="(whsec_[^"]+)"', html)
    assert match, "no secret on the page"
    return match.group(1)


@pytest.mark.parametrize("name", ["console-notifications", "console-subscription-create", "console-events"])
def test_pages_need_a_signed_in_operator(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_create_shows_the_secret_once(admin_client, callback_settings, receiver):
    rx = receiver()
    response = admin_client.post(reverse("console-subscription-create"), {**FORM, "url": rx.url})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    subscription = Subscription.objects.get()
    assert shown_secret(response.content.decode()) == subscription.secret
    assert (subscription.shape, subscription.on_upload, subscription.on_task_finish) == ("ALIBABA", True, False)

    for page in (reverse("console-notifications"), reverse("console-subscription", args=[subscription.public_id]),
                 reverse("console-subscription-edit", args=[subscription.public_id])):
        html = admin_client.get(page).content.decode()
        assert subscription.secret not in html and subscription.url[:40] in html


def test_an_internal_url_is_refused_beside_its_field(admin_client, settings):
    settings.ALLOW_PRIVATE_ADDRESSES = False
    response = admin_client.post(reverse("console-subscription-create"),
                                 {**FORM, "url": "http://169.254.169.254/latest/meta-data/"})
    assert response.status_code == 400 and not Subscription.objects.exists()
    assert re.search(r'id="error-url">[^<]*non-public address', response.content.decode())


def test_a_shape_without_the_chosen_events_is_refused(admin_client, callback_settings, receiver):
    form = {"name": "x", "url": receiver().url, "shape": "ALIBABA", "on_task_finish": "on", "enabled": "on"}
    response = admin_client.post(reverse("console-subscription-create"), form)
    assert response.status_code == 400 and not Subscription.objects.exists()
    assert "Alibaba VOD shape carries" in response.content.decode()


def test_edit_rotate_and_delete(admin_client, callback_settings, receiver):
    rx = receiver()
    subscription, old = save_subscription(None, name="a", url=rx.url, shape=Subscription.Shape.TENCENT)
    edit = reverse("console-subscription-edit", args=[subscription.public_id])
    response = admin_client.post(edit, {"name": "renamed", "url": rx.url, "shape": "TENCENT",
                                        "on_task_state": "on"})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.name, subscription.enabled, subscription.on_task_state, subscription.on_upload) == (
        "renamed", False, True, False)
    assert subscription.secret == old  # editing keeps the secret

    response = admin_client.post(reverse("console-subscription-rotate", args=[subscription.public_id]))
    subscription.refresh_from_db()
    assert shown_secret(response.content.decode()) == subscription.secret != old
    assert subscription.previous_secret == old and subscription.previous_secret_expires

    assert admin_client.get(reverse("console-subscription-delete", args=[subscription.public_id])).status_code == 200
    response = admin_client.post(reverse("console-subscription-delete", args=[subscription.public_id]))
    assert response.status_code == 302 and not Subscription.objects.exists()


def test_delivery_log_and_redelivery(admin_client, callback_settings, receiver, drain_callbacks):
    callback_settings.CALLBACK_RETRY_SCHEDULE = []
    rx = receiver(Reply(500, b"database down"))
    subscription, _ = save_subscription(None, name="orders", url=rx.url, shape=Subscription.Shape.ALIBABA)
    failed_upload("first")
    failed_upload("second")
    drain_callbacks(lambda: Delivery.objects.filter(status=Delivery.Status.FAILED).count() == 2)

    page = admin_client.get(reverse("console-subscription", args=[subscription.public_id])).content.decode()
    assert page.count("database down") == 2 and "Redeliver 2 failed" in page and "HTTP 500" in page
    assert "2 failed" in admin_client.get(reverse("console-notifications")).content.decode()
    event = Event.objects.get(summary__startswith="first")
    page = admin_client.get(reverse("console-event", args=[event.event_id])).content.decode()
    assert "FileUploadComplete" in page and "database down" in page and str(event.event_id) in page
    assert "&quot;ErrorCode&quot;: &quot;InvalidVideoFormat&quot;" in page

    rx.replies = [Reply(200, b"ok")]
    response = admin_client.post(reverse("console-subscription-redeliver-failed", args=[subscription.public_id]),
                                 follow=True)
    assert "2 failed deliveries queued again" in response.content.decode()
    drain_callbacks(lambda: Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 2)

    one = Delivery.objects.get(event=event)
    response = admin_client.post(reverse("console-delivery-redeliver", args=[one.public_id]))
    assert response.status_code == 302 and response["Location"] == reverse("console-event", args=[event.event_id])
    drain_callbacks(lambda: Delivery.objects.get(pk=one.pk).status == Delivery.Status.DELIVERED)
    assert len(rx.received) == 5 and Delivery.objects.get(pk=one.pk).attempts == 3

    events = admin_client.get(reverse("console-events")).content.decode()
    assert "first: upload failed" in events and "second: upload failed" in events


def test_a_subscription_whose_address_became_refused_can_be_renamed_and_disabled(admin_client, callback_settings,
                                                                                 receiver):
    """Issue 14: every edit re-checked the URL, so only delete worked."""
    rx = receiver()
    subscription, _ = save_subscription(None, name="a", url=rx.url, shape=Subscription.Shape.TENCENT)
    callback_settings.ALLOW_PRIVATE_ADDRESSES = False
    edit = reverse("console-subscription-edit", args=[subscription.public_id])
    # The form sends the URL back as it was: unchanged, it is not checked again.
    response = admin_client.post(edit, {"name": "old receiver", "url": rx.url, "shape": "TENCENT",
                                        "on_upload": "on"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    subscription.refresh_from_db()
    assert (subscription.name, subscription.enabled) == ("old receiver", False)

    response = admin_client.post(edit, {"name": "moved", "url": "http://127.0.0.2:9/", "shape": "TENCENT",
                                        "on_upload": "on"})
    assert response.status_code == 400
    assert re.search(r'id="error-url">[^<]*non-public address', response.content.decode())
    subscription.refresh_from_db()
    assert (subscription.name, subscription.url) == ("old receiver", rx.url)
