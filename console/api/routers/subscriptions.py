"""Push subscriptions: create (the secret shown once), list, get, update, delete, rotate the
secret, the delivery log, and redelivery. Every rule is behind `media_jobs.commands.subscriptions`, as in the console."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from console.api import serialize_events as serialize
from console.api.common import DEFAULT_LIMIT, MAX_LIMIT, attribute, get, page
from console.api.event_schemas import (
    DeliveryOut,
    RedeliveredOut,
    SecretOut,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatchIn,
)
from console.api.schemas import Error, Page
from media_jobs.commands import subscriptions as subscription_commands
from media_jobs.commands.subscriptions import (
    redeliver,
    redeliver_failed,
    rotate_secret,
    save_subscription,
)
from media_jobs.callbacks.subscriptions import FLAG_KINDS
from media_jobs.models import Subscription

router = Router(tags=["Subscriptions"])
ERRORS = {400: Error, 401: Error, 404: Error, 409: Error, 429: Error}


def _subscription(subscription_id: UUID) -> Subscription:
    return get(serialize.subscriptions(), "subscription", public_id=subscription_id)


def _flags(payload: SubscriptionIn | SubscriptionPatchIn) -> dict[str, bool]:
    """The event flags the request gave; the service keeps the others as they are."""
    return {name: value for name in FLAG_KINDS if (value := getattr(payload, name)) is not None}


def _no_store(response: HttpResponse) -> None:
    # The answer carries a secret: no cache may keep it.
    response["Cache-Control"] = "no-store"


@router.get("", response={200: Page[SubscriptionOut], **ERRORS}, summary="List subscriptions")
def list_subscriptions(request: HttpRequest, offset: int = Query(0, ge=0, le=10**9),
                       limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    """By name. Secrets are never listed."""
    return page(serialize.subscriptions().order_by("name", "id"), offset, limit, serialize.subscription)


@router.post("", response={201: SubscriptionCreatedOut, **ERRORS}, summary="Create a subscription")
def create_subscription(request: HttpRequest, payload: SubscriptionIn, response: HttpResponse):
    """The URL is checked now and again at every connection. The answer holds the signing
    secret, the only time it is shown; `POST …/rotate` makes a new one."""
    saved, secret = save_subscription(None, name=payload.name, url=payload.url, shape=payload.shape,
                                      enabled=payload.enabled, **_flags(payload))
    attribute(request, "subscription", saved.public_id)
    _no_store(response)
    return Status(201, {**serialize.subscription(_subscription(saved.public_id)), "secret": secret})


@router.get("/{uuid:subscription_id}", response={200: SubscriptionOut, **ERRORS}, summary="Get a subscription")
def get_subscription(request: HttpRequest, subscription_id: UUID):
    """Everything but the secret."""
    return serialize.subscription(_subscription(subscription_id))


@router.patch("/{uuid:subscription_id}", response={200: SubscriptionOut, **ERRORS}, summary="Update a subscription")
def update_subscription(request: HttpRequest, subscription_id: UUID, payload: SubscriptionPatchIn):
    """Fields left out keep their value; the events are checked as on create, the URL only
    when it changes (a subscription whose address became refused can still be renamed or
    disabled). The secret is unchanged."""
    subscription = _subscription(subscription_id)
    save_subscription(
        subscription,
        name=subscription.name if payload.name is None else payload.name,
        url=subscription.url if payload.url is None else payload.url,
        shape=subscription.shape if payload.shape is None else payload.shape,
        enabled=subscription.enabled if payload.enabled is None else payload.enabled,
        **_flags(payload),
    )
    attribute(request, "subscription", subscription_id)
    return serialize.subscription(_subscription(subscription_id))


@router.delete("/{uuid:subscription_id}", response={204: None, **ERRORS}, summary="Delete a subscription")
def delete_subscription(request: HttpRequest, subscription_id: UUID):
    """Its delivery log goes with it and pending deliveries are not sent; events are kept."""
    subscription_commands.delete_subscription(_subscription(subscription_id))
    attribute(request, "subscription", subscription_id)
    return Status(204, None)


@router.post("/{uuid:subscription_id}/rotate", response={200: SecretOut, **ERRORS}, summary="Rotate the signing secret")
def rotate(request: HttpRequest, subscription_id: UUID, response: HttpResponse):
    """A new secret, shown only in this answer. The old one keeps signing beside it for the
    overlap period (24 h by default), so receivers can switch without losing events."""
    subscription = _subscription(subscription_id)
    secret = rotate_secret(subscription)
    attribute(request, "subscription", subscription_id)
    _no_store(response)
    return {"subscription_id": subscription.public_id, "secret": secret,
            "previous_secret_expires": subscription.previous_secret_expires}


@router.get("/{uuid:subscription_id}/deliveries", response={200: Page[DeliveryOut], **ERRORS},
            summary="List a subscription's deliveries")
def list_deliveries(request: HttpRequest, subscription_id: UUID,
                    status: Literal["PENDING", "DELIVERED", "FAILED"] | None = Query(None),
                    offset: int = Query(0, ge=0, le=10**9), limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    """Newest first, each with its attempt log (time, status code, latency, the start of the
    answer, the error)."""
    subscription = _subscription(subscription_id)
    deliveries = serialize.deliveries().filter(subscription=subscription)
    if status is not None:
        deliveries = deliveries.filter(status=status)
    return page(deliveries.order_by("-created_at", "-id"), offset, limit, serialize.delivery)


@router.post("/{uuid:subscription_id}/deliveries/{uuid:delivery_id}/redeliver", response={200: DeliveryOut, **ERRORS},
             summary="Redeliver one event")
def redeliver_one(request: HttpRequest, subscription_id: UUID, delivery_id: UUID):
    """Send the event again now with a fresh retry schedule; earlier attempts stay in the log."""
    subscription = _subscription(subscription_id)
    delivery = get(serialize.deliveries().filter(subscription=subscription), "delivery", public_id=delivery_id)
    redeliver(delivery)
    attribute(request, "delivery", delivery_id)
    return serialize.delivery(get(serialize.deliveries(), "delivery", public_id=delivery_id))


@router.post("/{uuid:subscription_id}/redeliver-failed", response={200: RedeliveredOut, **ERRORS},
             summary="Redeliver every failed event")
def redeliver_all_failed(request: HttpRequest, subscription_id: UUID):
    """Every FAILED delivery of the subscription goes back to PENDING and is sent now."""
    queued = redeliver_failed(_subscription(subscription_id))
    attribute(request, "subscription", subscription_id)
    return {"queued": queued}
