"""Notifications: push subscriptions (secret shown once, rotation), their delivery logs, the
event log, and redelivery."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from console.web.views.common import paginate, query_without_page
from media_jobs.commands.subscriptions import (
    delete_subscription,
    redeliver,
    redeliver_failed,
    rotate_secret,
    save_subscription,
)
from media_jobs.callbacks.schedule import schedule_summary
from media_jobs.errors import LoopdeckError
from media_jobs.models import Delivery, DeliveryAttempt, Event, Subscription

EVENT_FLAGS = ("on_upload", "on_output", "on_task_finish", "on_task_state")


class SubscriptionForm(forms.Form):
    """A subscription's settings; the URL and event rules are the service's (`save_subscription`)."""

    name = forms.CharField(max_length=100, required=False, help_text=gettext_lazy("For you; the URL is used when empty."))
    url = forms.CharField(label="URL", max_length=2048,
                          help_text=gettext_lazy("http or https. Internal and private addresses are refused."))
    shape = forms.ChoiceField(label=gettext_lazy("Payload shape"), choices=Subscription.Shape.choices)
    on_upload = forms.BooleanField(label=gettext_lazy("Upload finished (NewFileUpload / FileUploadComplete)"), required=False)
    on_output = forms.BooleanField(label=gettext_lazy("Animated image finished (Alibaba DynamicImageComplete)"), required=False)
    on_task_finish = forms.BooleanField(label=gettext_lazy("Task finished (Tencent ProcedureStateChanged)"), required=False)
    on_task_state = forms.BooleanField(label=gettext_lazy("Every task state change (Tencent ProcedureStateChanged)"),
                                       required=False)
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, subscription: Subscription | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.subscription = subscription
        self.saved: Subscription | None = None
        self.new_secret: str | None = None

    def save(self) -> bool:
        """Validate and save through the service; its named errors land on their fields."""
        if not self.is_valid():
            return False
        data = self.cleaned_data
        try:
            self.saved, self.new_secret = save_subscription(
                self.subscription, name=data["name"], url=data["url"], shape=data["shape"],
                enabled=data["enabled"], **{flag: data[flag] for flag in EVENT_FLAGS},
            )
        except LoopdeckError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
            return False
        return True


def _initial(subscription: Subscription) -> dict[str, Any]:
    fields = ("name", "url", "shape", "enabled", *EVENT_FLAGS)
    return {name: getattr(subscription, name) for name in fields}


def _subscription(public_id: str) -> Subscription:
    return get_object_or_404(Subscription, public_id=public_id)


def _show_secret(request: HttpRequest, subscription: Subscription, secret: str, rotated: bool) -> HttpResponse:
    # Rendered, never redirected: the secret must not travel through the session or a URL.
    response = render(request, "console/callbacks/secret.html",
                      {"subscription": subscription, "secret": secret, "rotated": rotated})
    response["Cache-Control"] = "no-store"
    return response


@login_required
def subscription_list(request: HttpRequest) -> HttpResponse:
    counts = {f"n_{s.lower()}": Count("deliveries", filter=Q(deliveries__status=s)) for s in Delivery.Status.values}
    subscriptions = Subscription.objects.annotate(**counts).order_by("name", "id")
    return render(request, "console/callbacks/subscription_list.html", {
        "subscriptions": subscriptions, "schedule": schedule_summary(),
    })


@login_required
def subscription_create(request: HttpRequest) -> HttpResponse:
    form = SubscriptionForm(request.POST if request.method == "POST" else None,
                            initial={"on_upload": True, "on_output": True, "on_task_finish": True, "enabled": True})
    if request.method == "POST" and form.save():
        assert form.saved is not None and form.new_secret is not None
        return _show_secret(request, form.saved, form.new_secret, rotated=False)
    return render(request, "console/callbacks/subscription_form.html", {"form": form, "subscription": None},
                  status=400 if request.method == "POST" else 200)


@login_required
def subscription_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    subscription = _subscription(public_id)
    form = SubscriptionForm(request.POST if request.method == "POST" else None, subscription=subscription,
                            initial=_initial(subscription))
    if request.method == "POST" and form.save():
        messages.success(request, _("Subscription “%(name)s” saved.") % {"name": subscription.name})
        return redirect("console-subscription", public_id=subscription.public_id)
    return render(request, "console/callbacks/subscription_form.html", {"form": form, "subscription": subscription},
                  status=400 if request.method == "POST" else 200)


@login_required
def subscription_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    subscription = _subscription(public_id)
    if request.method == "POST":
        delete_subscription(subscription)
        messages.success(request, _("Subscription “%(name)s” deleted.") % {"name": subscription.name})
        return redirect("console-notifications")
    return render(request, "console/confirm_delete.html", {
        "what": _("the subscription “%(name)s”") % {"name": subscription.name},
        "consequence": _("Its delivery log goes with it and pending deliveries are not sent. Events stay in the event log."),
        "cancel_url": reverse("console-subscription", args=[subscription.public_id]),
    })


@login_required
@require_POST
def subscription_rotate(request: HttpRequest, public_id: str) -> HttpResponse:
    subscription = _subscription(public_id)
    secret = rotate_secret(subscription)
    return _show_secret(request, subscription, secret, rotated=True)


@login_required
@require_POST
def subscription_redeliver_failed(request: HttpRequest, public_id: str) -> HttpResponse:
    subscription = _subscription(public_id)
    count = redeliver_failed(subscription)
    messages.success(request, ngettext("%(n)s failed delivery queued again.", "%(n)s failed deliveries queued again.",
                                       count) % {"n": count} if count else _("No failed deliveries to send again."))
    return redirect("console-subscription", public_id=subscription.public_id)


def _attempts() -> Prefetch:
    return Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number"))


@login_required
def subscription_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    subscription = _subscription(public_id)
    deliveries = subscription.deliveries.select_related("event").prefetch_related(_attempts())
    status = request.GET.get("status", "")
    if status in Delivery.Status.values:
        deliveries = deliveries.filter(status=status)
    return render(request, "console/callbacks/subscription_detail.html", {
        "subscription": subscription, "page": paginate(request, deliveries.order_by("-created_at", "-id")),
        "status": status, "statuses": Delivery.Status.choices, "pager_query": query_without_page(request),
        "n_failed": subscription.deliveries.filter(status=Delivery.Status.FAILED).count(),
    })


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    events = Event.objects.annotate(
        n_deliveries=Count("deliveries"),
        n_failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        n_pending=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
    ).order_by("-created_at", "-id")
    kind = request.GET.get("kind", "")
    if kind in Event.Kind.values:
        events = events.filter(kind=kind)
    return render(request, "console/callbacks/event_list.html", {
        "page": paginate(request, events), "kind": kind, "kinds": Event.Kind.choices,
        "pager_query": query_without_page(request),
    })


@login_required
def event_detail(request: HttpRequest, event_id: str) -> HttpResponse:
    event = get_object_or_404(Event, event_id=event_id)
    deliveries = event.deliveries.select_related("subscription").prefetch_related(_attempts()).order_by("id")
    shapes = [(label, json.dumps(payload, indent=2, ensure_ascii=False))
              for label, payload in (("Tencent", event.tencent), ("Alibaba", event.alibaba)) if payload is not None]
    return render(request, "console/callbacks/event_detail.html",
                  {"event": event, "deliveries": deliveries, "shapes": shapes})


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, public_id: str) -> HttpResponse:
    delivery = get_object_or_404(Delivery.objects.select_related("event", "subscription"), public_id=public_id)
    redeliver(delivery)
    messages.success(request, _("Event %(id)s queued again for “%(name)s”.") % {"id": delivery.event.event_id, "name": delivery.subscription.name})
    target = request.POST.get("next", "")
    if target == "subscription":
        return redirect("console-subscription", public_id=delivery.subscription.public_id)
    return redirect("console-event", event_id=delivery.event.event_id)
