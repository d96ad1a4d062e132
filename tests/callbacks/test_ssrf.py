"""Callback URLs cannot reach internal addresses: refused when saved and again at connect time."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from media_jobs.callbacks import save_subscription
from media_jobs.errors import LoopdeckError
from media_jobs.models import Delivery, DeliveryAttempt, Subscription
from tests.callbacks.conftest import Reply, failed_upload

pytestmark = pytest.mark.django_db(transaction=True)


def private_name() -> str:
    """A host name (not 'localhost') that this machine resolves to a non-public address."""
    name = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(name, 80)}
    assert addresses and all(not ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses), addresses
    return name


REFUSED = [
    "http://127.0.0.1/hook",
    "http://localhost/hook",
    "http://localhost./hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0x7f000001/hook",
    "http://2130706433/hook",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/hook",
    "file:///etc/passwd",
    "gopher://example.com/",
    "http://user:pw@example.com/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_internal_urls_are_refused_when_saved(settings, url):
    settings.ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(LoopdeckError) as caught:
        save_subscription(None, name="x", url=url, shape=Subscription.Shape.TENCENT)
    assert caught.value.code == "InvalidParameter" and caught.value.field == "url"
    assert not Subscription.objects.exists()


def test_a_name_that_resolves_to_a_private_address_is_refused(settings):
    settings.ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(LoopdeckError) as caught:
        save_subscription(None, name="x", url=f"http://{private_name()}:8080/hook", shape=Subscription.Shape.TENCENT)
    assert "non-public address" in caught.value.message


def test_the_address_is_checked_again_at_connect_time(callback_settings, receiver, drain_callbacks):
    rx = receiver()
    # Saved while private addresses were allowed (or the name pointed elsewhere then) ...
    subscription, _ = save_subscription(None, name="x", url=rx.url.replace("127.0.0.1", private_name()),
                                        shape=Subscription.Shape.ALIBABA)
    callback_settings.ALLOW_PRIVATE_ADDRESSES = False
    callback_settings.CALLBACK_RETRY_SCHEDULE = [0.1]
    failed_upload()
    delivery = Delivery.objects.get(subscription=subscription)

    drain_callbacks(lambda: Delivery.objects.get(pk=delivery.pk).status != Delivery.Status.PENDING)

    # ... the delivery refuses to connect: the receiver never sees a connection.
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery))
    assert len(attempts) == 2 and all("non-public address" in a.error for a in attempts)
    assert rx.connections == 0


def test_a_redirect_to_an_internal_address_is_not_followed(callback_settings, receiver, drain_callbacks):
    internal = receiver()  # stands for the internal service the redirect points at
    rx = receiver(Reply(307, headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
                  Reply(302, headers={"Location": internal.url}))
    callback_settings.CALLBACK_RETRY_SCHEDULE = [0.1]
    subscription, _ = save_subscription(None, name="x", url=rx.url, shape=Subscription.Shape.ALIBABA)
    failed_upload()
    delivery = Delivery.objects.get(subscription=subscription)

    drain_callbacks(lambda: Delivery.objects.get(pk=delivery.pk).status != Delivery.Status.PENDING)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    errors = list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("number").values_list("error", flat=True))
    assert "169.254.169.254" in errors[0] and "not followed" in errors[0]
    assert internal.url in errors[1] and internal.connections == 0
