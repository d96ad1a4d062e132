"""A subscription keeps only the events its payload shape can carry (issue 15: a Tencent-shaped
subscription offered and saved "Animated image finished", then never delivered one)."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from media_jobs.callbacks import save_subscription
from media_jobs.callbacks.subscriptions import shape_flags
from media_jobs.models import Subscription

pytestmark = pytest.mark.django_db


@override_settings(ALLOW_PRIVATE_ADDRESSES=True)
def test_a_tencent_subscription_does_not_keep_animated_image_finished():
    subscription, _ = save_subscription(None, name="t", url="http://127.0.0.1:9/hook", shape="TENCENT",
                                        on_upload=True, on_output=True, on_task_finish=True)
    subscription.refresh_from_db()
    assert (subscription.on_upload, subscription.on_output, subscription.on_task_finish) == (True, False, True)


def test_the_form_marks_each_event_with_the_shapes_that_carry_it(admin_client):
    assert shape_flags()["TENCENT"] == ["on_upload", "on_task_finish", "on_task_state"]
    page = admin_client.get(reverse("console-subscription-create")).content.decode()
    shapes = dict((flag, shapes) for shapes, flag in
                  re.findall(r'data-shapes="([^"]*)">(?:(?!data-shapes).)*?name="(on_\w+)"', page, re.S))
    assert shapes == {"on_upload": "TENCENT ALIBABA", "on_output": "ALIBABA", "on_task_finish": "TENCENT",
                      "on_task_state": "TENCENT"}
    assert Subscription.objects.count() == 0


@override_settings(ALLOW_PRIVATE_ADDRESSES=False)
def test_a_private_callback_address_is_refused_with_how_to_allow_it(admin_client):
    page = admin_client.post(reverse("console-subscription-create"), {
        "name": "local", "url": "http://127.0.0.1:9000/hook", "shape": "TENCENT", "on_upload": "on", "enabled": "on",
    }).content.decode()
    assert "non-public address (127.0.0.1)" in page
    assert "for local use, start Loopdeck with ALLOW_PRIVATE_ADDRESSES=true" in page
    assert Subscription.objects.count() == 0
