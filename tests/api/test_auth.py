"""API keys (console page, hashing, revocation), request ids, rate limits, the OpenAPI document
and the reference page."""

from __future__ import annotations

import hashlib
import re
import time

import pytest

from console.api.models import ApiAction, ApiKey
from tests.api.conftest import ApiClient, assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("header", [None, "Token abc", "Bearer", "Bearer ld_000000000000_nope", "Basic dXNlcjpwdw=="])
def test_requests_without_a_valid_key_get_401(header: str | None, client) -> None:  # noqa: ANN001
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/templates", headers=headers)
    assert_error(response, 401, "Unauthorized")


def test_a_key_created_in_the_console_is_shown_once_and_stored_hashed(admin_client) -> None:  # noqa: ANN001
    page = admin_client.post("/api/keys/", {"name": "CMS importer"})
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]  # the one page with the key in clear is never cached
    token = re.search(r'id="new-token">(ld_[^<]+)<', page.content.decode()).group(1)
    key = ApiKey.objects.get(name="CMS importer")
    assert key.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in key.token_hash
    assert key.created_by == admin_client.user
    # The list shows only the prefix afterwards.
    listing = admin_client.get("/api/keys/").content.decode()
    assert key.prefix in listing and token not in listing

    api = ApiClient(token)
    assert api.get("/api/v1/templates").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_revoked_key_is_refused_at_once(admin_client, api, api_key) -> None:  # noqa: ANN001
    key, _ = api_key
    assert api.get("/api/v1/templates").status_code == 200
    response = admin_client.post(f"/api/keys/{key.pk}/revoke/")
    assert response.status_code == 302
    assert_error(api.get("/api/v1/templates"), 401, "Unauthorized")


def test_the_key_pages_need_a_signed_in_operator(client) -> None:  # noqa: ANN001
    assert client.get("/api/keys/").status_code == 302
    assert client.get("/api/docs/").status_code == 302
    assert not ApiKey.objects.exists()


def test_a_key_name_is_required(admin_client) -> None:  # noqa: ANN001
    response = admin_client.post("/api/keys/", {"name": "  "})
    assert response.status_code == 400 and not ApiKey.objects.exists()


def test_every_response_carries_a_request_id(api, anonymous) -> None:  # noqa: ANN001
    ids = set()
    for response in (api.get("/api/v1/templates"), api.get("/api/v1/templates/99999999"),
                     anonymous.get("/api/v1/tasks"), api.get("/api/v1/no-such-thing"),
                     api.client.put("/api/v1/templates", headers=api._headers(None))):
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-Id"])
        ids.add(response["X-Request-Id"])
    assert len(ids) == 5


def test_unknown_paths_and_methods_answer_json(api) -> None:  # noqa: ANN001
    assert_error(api.get("/api/v1/no-such-thing"), 404, "ResourceNotFound")
    assert_error(api.get("/api/v1/"), 404, "ResourceNotFound")  # django-ninja's own root view
    response = api.client.put("/api/v1/templates", headers=api._headers(None))
    assert_error(response, 405, "InvalidParameter")
    assert "GET" in response["Allow"]


def test_over_the_rate_limit_a_key_gets_429_with_retry_after(api, api_key, settings) -> None:  # noqa: ANN001
    settings.API_RATE_LIMIT, settings.API_RATE_WINDOW = 3, 60
    assert [api.get("/api/v1/templates").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/api/v1/templates")
    assert_error(response, 429, "RequestLimitExceeded")
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another key has its own budget.
    other = ApiClient(ApiKey.issue("other")[1])
    assert other.get("/api/v1/templates").status_code == 200


def test_work_done_through_the_api_is_attributed_to_its_key(api, api_key) -> None:  # noqa: ANN001
    response = api.post("/api/v1/templates", {"name": "attributed", "width": 160})
    assert response.status_code == 201
    action = ApiAction.objects.get(object_type="template")
    assert action.api_key == api_key[0] and action.object_id == str(response.json()["definition"])
    assert action.request_id == response["X-Request-Id"] and action.method == "POST"


def test_the_openapi_document_is_generated_and_public(anonymous) -> None:  # noqa: ANN001
    response = anonymous.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in ("/api/v1/templates", "/api/v1/templates/{definition}", "/api/v1/templates/{definition}/copy",
                 "/api/v1/workflows", "/api/v1/videos", "/api/v1/videos/from-url", "/api/v1/videos/{video_id}/cover",
                 "/api/v1/tasks", "/api/v1/tasks/{task_id}/abort", "/api/v1/tasks/{task_id}/retry",
                 "/api/v1/videos/{video_id}/animated-images", "/api/v1/animated-images/{image_id}"):
        assert path in paths, path
    assert "animated_graphic_task_set" in doc["components"]["schemas"]["TaskIn"]["properties"]
    assert doc["components"]["securitySchemes"]


def test_the_reference_page_lists_every_operation(admin_client, anonymous) -> None:  # noqa: ANN001
    doc = anonymous.get("/api/v1/openapi.json").json()
    page = admin_client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "single-tenant" in html
    operations = [(m.upper(), p) for p, item in doc["paths"].items() for m in item]
    for method, path in operations:
        assert f'<span class="status">{method}</span> <code class="mono">{path}</code>' in html
    assert "style=" not in html


def test_the_rate_limit_slides_so_a_window_boundary_does_not_double_the_budget(api, api_key, settings) -> None:  # noqa: ANN001
    """A fixed window lets `limit` requests in just before its boundary and `limit` more just after;
    the sliding window still counts the earlier ones (weighted by how much of them is left)."""
    settings.API_RATE_LIMIT, settings.API_RATE_WINDOW = 3, 2
    time.sleep((2 - time.time() % 2) + 1.7 if time.time() % 2 > 1.7 else 1.7 - time.time() % 2)
    assert [api.get("/api/v1/templates").status_code for _ in range(3)] == [200, 200, 200]
    time.sleep(2 - time.time() % 2 + 0.05)  # just past the boundary of a 2 s fixed window
    response = api.get("/api/v1/templates")
    assert_error(response, 429, "RequestLimitExceeded")
    assert 1 <= int(response["Retry-After"]) <= 2
