"""The four signature schemes the vendors' official SDKs use, verified from the raw request.

Each verifier returns the access key and raises AuthProblem with a kind the dialect turns into
the vendor's own code. What is signed, exactly, is recorded in the research notes on the SDKs'
wire format: TC3 and ACS3 sign the Host as the client sent it (port included), so a proxy in
front must pass it through unchanged (nginx: `proxy_set_header Host $http_host`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from calendar import timegm
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

import redis
from django.conf import settings
from django.http import HttpRequest

from console.api.models import AccessKey
from console.dialects import keys
from media_jobs.jobs import queues

log = logging.getLogger("console.dialects")


class AuthProblem(Exception):
    """kind: missing, unknown_key, bad_signature, expired, nonce_used, unsupported."""

    def __init__(self, kind: str, message: str, string_to_sign: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.string_to_sign = string_to_sign


@dataclass(frozen=True)
class Verified:
    key: AccessKey
    params: dict[str, str]  # the call's parameters, signature fields removed (RPC and legacy forms)


def _pct(text: str) -> str:
    return quote(text, safe="~")


def _hmac(key: bytes, text: str, digest=hashlib.sha256) -> bytes:
    return hmac.new(key, text.encode("utf-8"), digest).digest()


def _lookup(key_id: str) -> tuple[AccessKey, str]:
    found = keys.active_key(key_id)
    if found is None:
        raise AuthProblem("unknown_key", f"the access key {key_id!r} does not exist or was revoked")
    return found


def _check_clock(signed_at: float) -> None:
    skew = settings.VENDOR_API_CLOCK_SKEW
    if abs(time.time() - signed_at) > skew:
        raise AuthProblem("expired", f"the request's timestamp is more than {skew} s from the server's clock")


def _check_nonce(key_id: str, nonce: str) -> None:
    """A nonce is good once per clock window (replayed requests are refused)."""
    if not nonce:
        raise AuthProblem("missing", "the signature nonce is missing")
    name = f"loopdeck:vendor:nonce:{key_id}:{nonce[:128]}"
    try:
        fresh = queues.get_queue(queues.LIGHT).connection.set(name, 1, nx=True,
                                                              ex=2 * settings.VENDOR_API_CLOCK_SKEW)
    except redis.exceptions.RedisError as exc:
        # As with the API's rate limit: without Redis the calls still work (the timestamp window
        # still bounds a replay), rather than every vendor call failing.
        log.warning("nonce not checked, Redis unavailable: %s", exc)
        return
    if not fresh:
        raise AuthProblem("nonce_used", "this signature nonce was already used")


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def _host(request: HttpRequest) -> str:
    # The Host header as the client sent it: the SDKs sign exactly that string.
    return request.META.get("HTTP_HOST", "")


# Tencent Cloud API 3.0 --------------------------------------------------------------------------

def tencent_tc3(request: HttpRequest) -> Verified:
    authorization = request.headers.get("Authorization", "")
    try:
        algorithm, rest = authorization.split(" ", 1)
        fields = dict(part.strip().split("=", 1) for part in rest.split(","))
        key_id, date, service, terminator = fields["Credential"].split("/")
        signed_headers = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
        stamp = int(request.headers.get("X-TC-Timestamp", ""))
    except (ValueError, KeyError) as exc:
        raise AuthProblem("missing", "the Authorization header is not a TC3-HMAC-SHA256 signature") from exc
    if algorithm != "TC3-HMAC-SHA256" or terminator != "tc3_request":
        raise AuthProblem("unsupported", f"unsupported signature algorithm {algorithm}")
    _check_clock(stamp)
    if time.strftime("%Y-%m-%d", time.gmtime(stamp)) != date:
        raise AuthProblem("bad_signature", "the credential date does not match X-TC-Timestamp")
    if request.headers.get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD":
        raise AuthProblem("unsupported", "an unsigned payload is not accepted")
    key, secret = _lookup(key_id)
    values = {"host": _host(request), "content-type": request.META.get("CONTENT_TYPE", "")}
    headers = "".join(f"{name}:{values.get(name, request.headers.get(name, ''))}\n" for name in signed_headers)
    query = request.META.get("QUERY_STRING", "") if request.method == "GET" else ""
    canonical = "\n".join([request.method or "", "/", query, headers, ";".join(signed_headers),
                           hashlib.sha256(request.body).hexdigest()])
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(stamp), f"{date}/{service}/tc3_request",
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = _hmac(("TC3" + secret).encode(), date)
    k = _hmac(k, service)
    k = _hmac(k, "tc3_request")
    if not _same(hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest(), signature):
        raise AuthProblem("bad_signature", "the signature does not match")
    return Verified(key, {})


def tencent_legacy(request: HttpRequest, params: dict[str, str]) -> Verified:
    """`ClientProfile(signMethod="HmacSHA1"|"HmacSHA256")`: every parameter in the form or query."""
    try:
        key_id, signature, stamp = params["SecretId"], params["Signature"], int(params["Timestamp"])
    except (KeyError, ValueError) as exc:
        raise AuthProblem("missing", "SecretId, Signature and Timestamp are required") from exc
    method = params.get("SignatureMethod", "HmacSHA1")
    digest = {"HmacSHA1": hashlib.sha1, "HmacSHA256": hashlib.sha256}.get(method)
    if digest is None:
        raise AuthProblem("unsupported", f"unsupported SignatureMethod {method}")
    _check_clock(stamp)
    key, secret = _lookup(key_id)
    signed = {k.replace("_", "."): v for k, v in params.items() if k != "Signature"}
    text = f"{request.method}{_host(request)}/?" + "&".join(f"{k}={signed[k]}" for k in sorted(signed))
    if not _same(base64.b64encode(_hmac(secret.encode(), text, digest)).decode(), signature):
        raise AuthProblem("bad_signature", "the signature does not match")
    _check_nonce(key_id, params.get("Nonce", ""))
    return Verified(key, {k: v for k, v in params.items() if k != "Signature"})


# Alibaba ----------------------------------------------------------------------------------------

def _iso_seconds(text: str) -> float:
    try:
        return float(timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError as exc:
        raise AuthProblem("missing", f"the timestamp {text!r} is not YYYY-MM-DDThh:mm:ssZ") from exc


def alibaba_rpc(request: HttpRequest, params: dict[str, str]) -> Verified:
    """Signature version 1.0, HMAC-SHA1 over the method and the sorted parameters (host and path
    are not signed)."""
    key_id = params.get("AccessKeyId", "")
    signature = params.get("Signature", "")
    if not key_id or not signature:
        raise AuthProblem("missing", "AccessKeyId and Signature are required")
    if params.get("SignatureMethod", "HMAC-SHA1") != "HMAC-SHA1":
        raise AuthProblem("unsupported", f"unsupported SignatureMethod {params.get('SignatureMethod')}")
    _check_clock(_iso_seconds(params.get("Timestamp", "")))
    key, secret = _lookup(key_id)
    canon = "&".join(f"{_pct(k)}={_pct(params[k])}" for k in sorted(params) if k != "Signature")
    to_sign = f"{request.method}&%2F&{_pct(canon)}"
    if not _same(base64.b64encode(_hmac(f"{secret}&".encode(), to_sign, hashlib.sha1)).decode(), signature):
        raise AuthProblem("bad_signature", "the signature does not match", to_sign)
    _check_nonce(key_id, params.get("SignatureNonce", ""))
    return Verified(key, {k: v for k, v in params.items() if k != "Signature"})


def alibaba_acs3(request: HttpRequest) -> Verified:
    authorization = request.headers.get("Authorization", "")
    try:
        algorithm, rest = authorization.split(" ", 1)
        fields = dict(part.strip().split("=", 1) for part in rest.split(","))
        key_id, signature = fields["Credential"], fields["Signature"]
        signed_headers = fields["SignedHeaders"].split(";")
    except (ValueError, KeyError) as exc:
        raise AuthProblem("missing", "the Authorization header is not an ACS3 signature") from exc
    if algorithm != "ACS3-HMAC-SHA256":
        raise AuthProblem("unsupported", f"unsupported signature algorithm {algorithm}")
    _check_clock(_iso_seconds(request.headers.get("x-acs-date", "")))
    body_hash = hashlib.sha256(request.body).hexdigest()
    if request.headers.get("x-acs-content-sha256", body_hash) != body_hash:
        raise AuthProblem("bad_signature", "x-acs-content-sha256 does not match the body")
    key, secret = _lookup(key_id)
    query = dict(parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True))
    canonical_query = "&".join(f"{_pct(k)}={_pct(query[k])}" for k in sorted(query))
    values = {"host": _host(request)}
    headers = "".join(f"{name}:{values.get(name, request.headers.get(name, '')).strip()}\n"
                      for name in signed_headers)
    canonical = "\n".join([request.method or "", "/", canonical_query, headers, ";".join(signed_headers), body_hash])
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    if not _same(hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest(), signature):
        raise AuthProblem("bad_signature", "the signature does not match", to_sign)
    _check_nonce(key_id, request.headers.get("x-acs-signature-nonce", ""))
    return Verified(key, query)
