"""S2 default deny and S3 CSRF, by walking every route the URL resolver knows (console, admin,
media, the JSON API) so that a route added later is covered without editing this file."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from console.api.models import ApiKey

pytestmark = pytest.mark.django_db

SAMPLE_UUID = str(uuid.uuid4())
SAMPLES = {"int": "1", "uuid": SAMPLE_UUID, "uuidstr": SAMPLE_UUID, "path": "1", "str": "1", "slug": "x"}
METHODS = ("get", "post", "put", "patch", "delete")
LOGIN = reverse("console-login")
ADMIN_LOGIN = reverse("admin:login")

# The only routes an anonymous client may use, and what it gets from each.
PUBLIC = {
    "login/": {"get": 200, "post": 200},  # the sign-in form (a failed sign-in shows it again)
    "logout/": {"get": 405, "post": 302},  # signing out nobody is harmless
    "admin/login/": {"get": 200, "post": 200},
    "admin/logout/": {"get": 302, "post": 302},  # back to the admin, which asks to sign in
    # The OpenAPI document describes operations and holds no data; tools read it before they
    # have a key (tests/api/test_auth.py keeps it public on purpose).
    "api/v1/openapi.json": {"get": 200, "post": 200},
    # console.js's strings in the page's language (the sign-in page needs them), and the language
    # switch (a cookie for the sign-in page; nothing else for a visitor who is not signed in).
    "jsi18n/": {"get": 200, "post": 405},
    "language/": {"get": 405, "post": 302},
}
# Where an anonymous client is sent instead: the console's sign-in page, or the admin's.
LOGIN_FOR = [("admin/", ADMIN_LOGIN), ("", LOGIN)]


def _join(prefix: str, pattern: str) -> str:
    # How Django joins routes in ResolverMatch.route.
    return pattern if not prefix else prefix + pattern.removeprefix("^")


def routes(patterns: list | None = None, prefix: str = "") -> list[tuple[str, URLPattern]]:
    """Every (route, pattern) pair, descending into includes."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = _join(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            found += routes(pattern.url_patterns, route)
        else:
            found.append((route, pattern))
    return found


def sample_url(route: str) -> str:
    """A concrete path the route matches: sample values for converters and regex groups."""
    text = re.sub(r"\(\?P<\w+>([^()]*)\)\??",
                  lambda m: m[1].split("|")[0] if re.fullmatch(r"[\w|]+", m[1]) else "1", route)
    text = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m[1] or "str"], text)
    if "(?P<" not in route and route.startswith("api/") and "^" in route and not route.endswith("$"):
        text += "no-such-endpoint"  # a prefix pattern (the API's JSON 404 for unknown paths)
    text = text.replace("^", "").replace("$", "").replace("/?", "/").replace("\\", "")
    return "/" + text


def _api_operations() -> dict[str, set[str]]:
    """Sample path → methods, from the OpenAPI document (what the API says it offers)."""
    from console.api.app import api

    document = api.get_openapi_schema(path_prefix="/api/v1")
    operations: dict[str, set[str]] = {}
    for path, item in document["paths"].items():
        params = {p["name"]: p.get("schema", {}) for op in item.values() for p in op.get("parameters", [])
                  if p.get("in") == "path"}
        url = re.sub(r"\{(\w+)\}", lambda m, params=params: "1" if params.get(m[1], {}).get("type") == "integer"
                     else SAMPLE_UUID, path)
        operations[url] = {m for m in item if m in METHODS}
    return operations


def test_every_route_refuses_anonymous_clients():
    anonymous = Client(raise_request_exception=False)
    operations = _api_operations()
    seen_api: set[str] = set()
    checked = 0
    for route, _pattern in routes():
        url = sample_url(route)
        match = resolve(url)
        assert _join("", match.route) == route or route in ("api/v1/",), f"{url} resolves to {match.route}, not {route}"
        if route in PUBLIC:
            for method, status in PUBLIC[route].items():
                assert getattr(anonymous, method)(url).status_code == status, (method, url)
            continue
        if url.startswith("/api/v1/"):
            offered = operations.get(url, set())
            seen_api.add(url) if offered else None
            for method in METHODS:
                response = getattr(anonymous, method)(url)
                checked += 1
                if not offered and response.status_code == 404:
                    continue  # no operation here (the API root, unknown paths): nothing to reach
                body = response.json()
                if method in offered:
                    assert (response.status_code, body["code"]) == (401, "Unauthorized"), (method, url, body)
                else:
                    assert (response.status_code, body["code"]) == (405, "InvalidParameter"), (method, url, body)
            continue
        login = next(target for prefix, target in LOGIN_FOR if route.startswith(prefix))
        for method in ("get", "post"):
            response = getattr(anonymous, method)(url)
            checked += 1
            if response.status_code in (401, 403) and response["Content-Type"] == "application/json":
                continue  # a JSON endpoint's refusal (the RQ dashboard's stats.json)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response["Location"].split("?")[0] == login, (method, url, response["Location"])
    # Every operation the API documents was reached by the walk, so none escaped it.
    assert seen_api == set(operations) - {"/api/v1/openapi.json"}, set(operations) ^ seen_api
    assert checked > 300


def test_a_signed_in_session_is_not_an_api_credential(admin_client):
    """The API takes only bearer keys: a browser session (which a CSRF attack would ride) gets 401."""
    for method, url in [("get", "/api/v1/videos"), ("post", "/api/v1/templates"), ("post", "/api/v1/events/pull")]:
        response = getattr(admin_client, method)(url, {}, content_type="application/json")
        assert (response.status_code, response.json()["code"]) == (401, "Unauthorized"), url


def test_every_console_form_refuses_a_post_without_a_csrf_token(django_user_model):
    user = django_user_model.objects.create_superuser("operator", password="correct horse battery")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    refused = 0
    for route, _pattern in routes():
        if route.startswith("api/v1/"):
            continue
        url = sample_url(route)
        response = browser.post(url, {"name": "x", "title": "x"})
        # Some routes (media, API pages) never take a POST at all; every other one must be 403.
        if response.status_code == 405:
            continue
        assert response.status_code == 403 and b"CSRF" in response.content, (url, response.status_code)
        refused += 1
    anonymous_login = Client(enforce_csrf_checks=True).post(LOGIN, {"username": "operator", "password": "x"})
    assert anonymous_login.status_code == 403
    assert refused > 100


def test_the_api_needs_no_csrf_token_with_a_bearer_key():
    _, token = ApiKey.issue("csrf")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})
    response = client.post("/api/v1/templates", {"name": "no csrf needed", "width": 160},
                           content_type="application/json")
    assert response.status_code == 201, response.content


# Where our own code may switch CSRF off: the API's JSON 404 for unknown paths (bearer-only, no
# state). Django-ninja exempts its own views because it authenticates by bearer key only.
CSRF_EXEMPT_ALLOWED = {"console/api/urls.py"}


def test_csrf_exemptions_are_only_the_listed_ones():
    base = Path(settings.BASE_DIR)
    users = {str(p.relative_to(base)) for folder in ("console", "media_jobs") for p in (base / folder).rglob("*.py")
             if "csrf_exempt" in p.read_text(encoding="utf-8")}
    assert users == CSRF_EXEMPT_ALLOWED
    # And at runtime: every exempt view is under the API, whose only credential is a bearer key.
    exempt = {route for route, pattern in routes() if getattr(pattern.callback, "csrf_exempt", False)}
    assert exempt and all(route.startswith("api/v1/") for route in exempt), exempt
