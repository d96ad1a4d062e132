"""Helpers shared by the API routers: paging, lookups that answer 404, attribution."""

from __future__ import annotations

import logging
from typing import Any, Callable, TypeVar
from uuid import UUID

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from console.api.errors import ApiError, not_found, request_id
from console.api.models import ApiAction
from media_jobs.errors import ErrorCode

log = logging.getLogger("console.api")
M = TypeVar("M", bound=Model)

DEFAULT_LIMIT = 10  # Tencent's Describe* default
MAX_LIMIT = 100  # and its maximum


def page(qs: QuerySet[M], offset: int, limit: int, render: Callable[[M], dict[str, Any]]) -> dict[str, Any]:
    """One page of a query in Tencent's offset/limit style, with the total."""
    return {"total_count": qs.count(), "offset": offset, "limit": limit,
            "items": [render(obj) for obj in qs[offset:offset + limit]]}


def get(qs: QuerySet[M], what: str, **lookup: Any) -> M:
    obj = qs.filter(**lookup).first()
    if obj is None:
        raise not_found(what, next(iter(lookup.values())))
    return obj


def parse_uuid(value: str, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise ApiError(ErrorCode.INVALID_PARAMETER, f"{field}: not a valid id", field) from exc


def attribute(request: HttpRequest, object_type: str, object_id: object) -> None:
    """Record which API key did this to which object (attribution of API work)."""
    key = getattr(request, "api_key", None)
    access_key = getattr(request, "access_key", None)
    ApiAction.objects.create(api_key=key, access_key=access_key, request_id=request_id(request),
                             method=request.method or "", path=request.path[:255], object_type=object_type,
                             object_id=str(object_id))
    actor = key or access_key
    log.info("api %s %s %s by key %s (request %s)", request.method, object_type, object_id,
             actor.prefix if actor else "-", request_id(request))
