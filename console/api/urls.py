"""The API under /api/v1/ (OpenAPI document at /api/v1/openapi.json) and its console pages."""

from django.urls import URLPattern, include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from console.api import idempotency, pages
from console.api.app import api
from console.api.envelope import not_found


def _wrapped(patterns: list) -> list:
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = idempotency.idempotent(pattern.callback)
    return patterns


_patterns, _app_name, _namespace = api.urls

urlpatterns = [
    path("v1/", include((_wrapped(list(_patterns)), _app_name), namespace=_namespace)),
    re_path(r"^v1/", csrf_exempt(not_found)),
    path("keys/", pages.api_keys, name="console-api-keys"),
    path("keys/<int:key_id>/revoke/", pages.revoke_key, name="console-api-key-revoke"),
    path("keys/access/", pages.create_access_key, name="console-access-key-create"),
    path("keys/access/<int:key_id>/revoke/", pages.revoke_access_key, name="console-access-key-revoke"),
    path("docs/", pages.reference, name="console-api-docs"),
]
