"""Bearer-token authentication for the API: `Authorization: Bearer ld_…`.

Loopdeck is single-tenant (one team): every active key reaches the whole library.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from console.api import ratelimit
from console.api.errors import ApiError
from console.api.models import ApiKey
from media_jobs.errors import ErrorCode


class ApiKeyAuth(HttpBearer):
    """Finds the key, refuses unknown or revoked ones, counts the request against its limit."""

    openapi_description = "An API key created in the console (Settings → API keys), as `Bearer ld_…`."

    def __call__(self, request: HttpRequest) -> ApiKey:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise ApiError(ErrorCode.UNAUTHORIZED, "missing Authorization header (use: Bearer <API key>)")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(ErrorCode.UNAUTHORIZED, "the Authorization header must be: Bearer <API key>")
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        key = ApiKey.authenticate(token)
        if key is None:
            raise ApiError(ErrorCode.UNAUTHORIZED, "the API key is unknown or revoked")
        request.api_key = key  # type: ignore[attr-defined]
        ratelimit.check(key.pk)
        key.touch()
        return key
