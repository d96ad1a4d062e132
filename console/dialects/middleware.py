"""The vendors' endpoint at `/` of the host: find the dialect from the request's shape, verify
its signature over the raw request, run the action, answer in the vendor's form.

  X-TC-Action header                      Tencent, TC3-HMAC-SHA256
  SecretId + Signature in form or query   Tencent, legacy HmacSHA1 / HmacSHA256
  Authorization: ACS3-HMAC-SHA256 ...     Alibaba, Tea SDK default (action in x-acs-action)
  Action + Signature in the query         Alibaba RPC, HMAC-SHA1 (legacy core; Tea's "v2")

Anything else at `/` (the console's overview page) passes through untouched."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from console.api import ratelimit
from console.api.errors import REQUEST_ID_HEADER, ApiError, request_id
from console.dialects import alibaba, multimedia_ai, oss, signatures, tencent
from console.dialects.common import unflatten
from media_jobs.errors import ErrorCode, LoopdeckError

log = logging.getLogger("console.dialects")


def _form(request: HttpRequest) -> dict[str, str]:
    # Parsed from the raw bytes (request.POST would be Django's reading, and the signature is
    # over what was sent).
    if request.method == "POST" and request.META.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    return {}


def _query(request: HttpRequest) -> dict[str, str]:
    return dict(parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True))


class VendorApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.VENDOR_API and oss.is_oss(request):
            request._dont_enforce_csrf_checks = True  # signed by an access key, not a session
            response = oss.handle(request, request_id(request))
            response[REQUEST_ID_HEADER] = request_id(request)
            return response
        if not settings.VENDOR_API or request.path != "/" or request.method not in ("GET", "POST"):
            return self.get_response(request)
        handler = self._dialect(request)
        if handler is None:
            return self.get_response(request)
        request._dont_enforce_csrf_checks = True  # signed by an access key, not a session
        response = handler(request)
        response[REQUEST_ID_HEADER] = request_id(request)
        return response

    def _dialect(self, request: HttpRequest) -> Callable[[HttpRequest], HttpResponse] | None:
        if "HTTP_X_TC_ACTION" in request.META:
            return self._tencent_tc3
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("ACS3-"):
            return self._alibaba_acs3
        query = _query(request)
        if "Action" in query and "Signature" in query:
            return self._alibaba_rpc
        if "SecretId" in query or ("SecretId" in (form := _form(request))):
            return self._tencent_legacy
        return None

    # Tencent -----------------------------------------------------------------------------------

    def _tencent_tc3(self, request: HttpRequest) -> HttpResponse:
        rid = request_id(request)
        try:
            verified = signatures.tencent_tc3(request)
        except signatures.AuthProblem as exc:
            return tencent.error(rid, tencent.AUTH_CODES[exc.kind], exc.message)
        if request.method == "GET":
            params: dict[str, Any] = unflatten(_query(request))
        else:
            try:
                params = json.loads(request.body or b"{}")
            except ValueError:
                return tencent.error(rid, "InvalidParameter", "the body is not JSON")
            if not isinstance(params, dict):
                return tencent.error(rid, "InvalidParameter", "the body is not a JSON object")
        return self._tencent_run(request, verified, request.headers["X-TC-Action"],
                                 request.headers.get("X-TC-Version", ""), params)

    def _tencent_legacy(self, request: HttpRequest) -> HttpResponse:
        rid = request_id(request)
        raw = _form(request) or _query(request)
        try:
            verified = signatures.tencent_legacy(request, raw)
        except signatures.AuthProblem as exc:
            return tencent.error(rid, tencent.AUTH_CODES[exc.kind], exc.message)
        common = {"Action", "Version", "Nonce", "Timestamp", "SecretId", "SignatureMethod", "Language",
                  "RequestClient", "Region", "Token"}
        params = unflatten({k: v for k, v in verified.params.items() if k not in common})
        return self._tencent_run(request, verified, raw.get("Action", ""), raw.get("Version", ""), params)

    def _tencent_run(self, request: HttpRequest, verified: signatures.Verified, action: str, version: str,
                     params: dict[str, Any]) -> HttpResponse:
        rid = request_id(request)
        if version != tencent.VERSION:
            return tencent.error(rid, "InvalidParameterValue.Version", f"the version {version!r} is not served; "
                                 f"use {tencent.VERSION}")
        handler = tencent.ACTIONS.get(action)
        if handler is None:
            return tencent.error(rid, "InvalidAction", f"the action {action!r} is not served by Loopdeck")
        try:
            self._admit(request, verified)
            return tencent.answer(rid, handler(request, params))
        except LoopdeckError as exc:
            return tencent.from_loopdeck(rid, exc)
        except ApiError as exc:
            return tencent.error(rid, "RequestLimitExceeded" if exc.status == 429 else "FailedOperation", exc.message)
        except Exception:
            log.exception("vendor call %s failed (request %s)", action, rid)
            return tencent.error(rid, "InternalError", f"an internal error occurred; request id {rid}")

    # Alibaba -----------------------------------------------------------------------------------

    def _alibaba_acs3(self, request: HttpRequest) -> HttpResponse:
        rid = request_id(request)
        try:
            verified = signatures.alibaba_acs3(request)
        except signatures.AuthProblem as exc:
            return self._alibaba_auth_error(rid, exc)
        params = dict(verified.params)
        params.update(_form(request))
        return self._alibaba_run(request, verified, request.headers.get("x-acs-action", ""),
                                 request.headers.get("x-acs-version", ""), params)

    def _alibaba_rpc(self, request: HttpRequest) -> HttpResponse:
        rid = request_id(request)
        raw = {**_query(request), **_form(request)}
        try:
            verified = signatures.alibaba_rpc(request, raw)
        except signatures.AuthProblem as exc:
            return self._alibaba_auth_error(rid, exc)
        common = {"Action", "Version", "Format", "RegionId", "Timestamp", "SignatureMethod", "SignatureType",
                  "SignatureVersion", "SignatureNonce", "AccessKeyId"}
        params = {k: v for k, v in verified.params.items() if k not in common}
        return self._alibaba_run(request, verified, raw.get("Action", ""), raw.get("Version", ""), params)

    @staticmethod
    def _alibaba_auth_error(rid: str, exc: signatures.AuthProblem) -> HttpResponse:
        status, code = alibaba.AUTH_ERRORS[exc.kind]
        message = exc.message
        if exc.kind == "bad_signature":
            # The vendor's own form; the legacy SDK splits it on ':' (it crashes without one).
            message = f"Specified signature is not matched with our calculation. server string to sign is:{exc.string_to_sign}"
        return alibaba.error(rid, status, code, message)

    def _alibaba_run(self, request: HttpRequest, verified: signatures.Verified, action: str, version: str,
                     params: dict[str, Any]) -> HttpResponse:
        rid = request_id(request)
        actions = {alibaba.VOD_VERSION: alibaba.VOD_ACTIONS, multimedia_ai.VERSION: multimedia_ai.ACTIONS}.get(version)
        if actions is None:
            return alibaba.error(rid, 400, "InvalidVersion", f"the version {version!r} is not served")
        handler = actions.get(action)
        if handler is None:
            return alibaba.error(rid, 404, "InvalidAction.NotFound", f"the action {action!r} is not served by Loopdeck")
        try:
            self._admit(request, verified)
            body = handler(request, params)
        except LoopdeckError as exc:
            if version == multimedia_ai.VERSION:
                return multimedia_ai.from_loopdeck(rid, exc)
            return alibaba.from_loopdeck(rid, exc)
        except ApiError as exc:
            return alibaba.error(rid, exc.status, "Throttling" if exc.status == 429 else "Forbidden", exc.message)
        except Exception:
            log.exception("vendor call %s failed (request %s)", action, rid)
            return alibaba.error(rid, 500, "InternalError", f"an internal error occurred; request id {rid}")
        return alibaba.answer(rid, body)

    @staticmethod
    def _admit(request: HttpRequest, verified: signatures.Verified) -> None:
        """Attribute the call to its key and count it against the key's rate limit."""
        request.access_key = verified.key  # type: ignore[attr-defined]
        verified.key.touch()
        ratelimit.check(f"access-key:{verified.key.pk}")
