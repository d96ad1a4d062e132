"""Managing push subscriptions: create, change, rotate the secret. The console and the API both
call these, so the rules (URL safety, which events a shape can carry) live in one place."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from media_jobs import net
from media_jobs.callbacks import signing
from media_jobs.errors import ErrorCode, LoopdeckError
from media_jobs.models import Event, Subscription

Kind = Event.Kind
Shape = Subscription.Shape

# The events each payload shape has a vendor form for.
SHAPE_KINDS: dict[str, frozenset[str]] = {
    Shape.TENCENT: frozenset({Kind.UPLOAD, Kind.TASK_FINISH, Kind.TASK_STATE}),
    Shape.ALIBABA: frozenset({Kind.UPLOAD, Kind.OUTPUT}),
}
FLAG_KINDS = {"on_upload": Kind.UPLOAD, "on_output": Kind.OUTPUT, "on_task_finish": Kind.TASK_FINISH,
              "on_task_state": Kind.TASK_STATE}


def check_subscription(url: str | None, shape: str, flags: dict[str, bool]) -> None:
    """Raise LoopdeckError (with `field`) unless the URL is safe and the shape carries a chosen
    event. A URL of None is not checked (it is not changing)."""
    if shape not in SHAPE_KINDS:
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER, _("the payload shape must be one of %(shapes)s") % {"shapes": ", ".join(SHAPE_KINDS)},
                          field="shape")
    if url is not None:
        net.check_url(url)
    chosen = {FLAG_KINDS[name] for name, on in flags.items() if on}
    if not chosen & SHAPE_KINDS[shape]:
        names = ", ".join(Kind(k).label.lower() for k in sorted(SHAPE_KINDS[shape]))
        raise LoopdeckError(ErrorCode.INVALID_PARAMETER,
                          _("choose at least one event the %(shape)s shape carries: %(names)s")
                            % {"shape": Shape(shape).label, "names": names},
                          field="events")


@transaction.atomic
def save_subscription(subscription: Subscription | None, *, name: str, url: str, shape: str,
                      enabled: bool = True, **flags: bool) -> tuple[Subscription, str | None]:
    """Create a subscription (returns its new secret, to show once) or change one (secret None).

    `flags` are `on_upload`, `on_output`, `on_task_finish`, `on_task_state`.

    The URL is checked only when it is new or changes: an address that became refused after it
    was saved (a DNS change, ALLOW_PRIVATE_ADDRESSES turned off) must not stop the operator from
    disabling or renaming the subscription. Deliveries check the address again at every
    connection, so an unchanged refused URL is never reached either way.
    """
    unknown = set(flags) - set(FLAG_KINDS)
    if unknown:
        raise TypeError(f"unknown event flags: {sorted(unknown)}")
    # Flags not given keep their value (a new subscription starts from the model's defaults).
    current = {name: getattr(subscription or Subscription(), name) for name in FLAG_KINDS}
    current.update(flags)
    url = url.strip()
    changed = subscription is None or url != subscription.url
    check_subscription(url if changed else None, shape, current)
    # An event the shape has no vendor form for would be saved and never sent: it is not kept.
    for flag, kind in FLAG_KINDS.items():
        if kind not in SHAPE_KINDS[shape]:
            current[flag] = False
    created = subscription is None
    subscription = subscription or Subscription(secret=signing.new_secret())
    subscription.name = name.strip()[:100] or url[:100]
    subscription.url, subscription.shape, subscription.enabled = url, shape, enabled
    for flag, on in current.items():
        setattr(subscription, flag, on)
    subscription.save()
    return subscription, subscription.secret if created else None


@transaction.atomic
def rotate_secret(subscription: Subscription, overlap_hours: float | None = None) -> str:
    """Give the subscription a new secret; the old one keeps signing too for the overlap period.
    Returns the new secret (shown once)."""
    hours = settings.CALLBACK_SECRET_OVERLAP_HOURS if overlap_hours is None else overlap_hours
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires = timezone.now() + timedelta(hours=hours)
    subscription.secret = signing.new_secret()
    subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires", "updated_at"])
    return subscription.secret


def shape_flags() -> dict[str, list[str]]:
    """For each shape, the event flags it can carry (the console form hides the others)."""
    return {shape: [flag for flag, kind in FLAG_KINDS.items() if kind in kinds] for shape, kinds in SHAPE_KINDS.items()}
