"""API fixtures: a key and a client that sends it, plus a small custom template."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from console.api.models import ApiKey


class ApiClient:
    """The Django test client with a bearer token and JSON bodies."""

    def __init__(self, token: str | None):
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        base = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**base, **(headers or {})}

    def get(self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        data = "" if body is None else json.dumps(body)
        return self.client.post(path, data, content_type="application/json", headers=self._headers(headers))

    def upload(self, path: str, data: dict[str, Any], headers: dict[str, str] | None = None):
        return self.client.post(path, data, headers=self._headers(headers))

    def patch(self, path: str, body: Any, headers: dict[str, str] | None = None):
        return self.client.patch(path, json.dumps(body), content_type="application/json", headers=self._headers(headers))

    def put(self, path: str, body: Any, headers: dict[str, str] | None = None):
        return self.client.put(path, json.dumps(body), content_type="application/json", headers=self._headers(headers))

    def delete(self, path: str, headers: dict[str, str] | None = None):
        return self.client.delete(path, headers=self._headers(headers))


@pytest.fixture
def api_key(db) -> tuple[ApiKey, str]:  # noqa: ANN001
    return ApiKey.issue("tests")


@pytest.fixture
def api(api_key: tuple[ApiKey, str]) -> ApiClient:
    return ApiClient(api_key[1])


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient(None)


def assert_error(response, status: int, code: str, field: str | None = None) -> dict[str, Any]:  # noqa: ANN001
    """The response is our JSON error with this status, code and (when given) field."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["request_id"] == response["X-Request-Id"] and len(body["request_id"]) == 32
    if field is not None:
        assert body["field"] == field, body
        assert field.split(".")[-1].split("[")[0] in body["message"], body
    return body
