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


# Alibaba OSS ------------------------------------------------------------------------------------

# The sub-resources OSS signs in V1 (the ones Loopdeck serves or may see from the oss2 SDK).
OSS_SUBRESOURCES = frozenset({"acl", "uploads", "location", "cors", "logging", "website", "referer", "lifecycle",
                              "delete", "append", "tagging", "objectMeta", "uploadId", "partNumber", "security-token",
                              "position", "img", "style", "styleName", "replication", "replicationProgress",
                              "replicationLocation", "cname", "bucketInfo", "comp", "qos", "live", "status", "vod",
                              "startTime", "endTime", "symlink", "x-oss-process", "response-content-type",
                              "response-content-language", "response-expires", "response-cache-control",
                              "response-content-disposition", "response-content-encoding", "udf", "udfName",
                              "udfImage", "udfId", "udfImageDesc", "udfApplication", "udfApplicationLog",
                              "restore", "callback", "callback-var", "versions", "versioning", "versionId",
                              "sequential", "continuation-token", "regionList", "x-oss-async-process",
                              "x-oss-traffic-limit", "x-oss-request-payer", "worm", "wormId", "wormExtend",
                              "objectInfo", "policy", "encryption", "inventory"})


def _v4_encode(text: str, keep_slash: bool) -> str:
    return quote(text, safe="-_.~" + ("/" if keep_slash else ""))


def _oss_headers(request: HttpRequest) -> list[tuple[str, str]]:
    """The x-oss-* headers as sent (lowercase names)."""
    return sorted((name[5:].replace("_", "-").lower(), value) for name, value in request.META.items()
                  if name.startswith("HTTP_X_OSS_"))


def oss(request: HttpRequest, bucket: str, key: str) -> AccessKey:
    """V4 (`OSS4-HMAC-SHA256 Credential=id/date/region/oss/aliyun_v4_request, Signature=`) or V1
    (`OSS id:signature`) over the method, the resource, the sub-resources and the x-oss headers."""
    content_type = request.META.get("CONTENT_TYPE", "")
    # wsgiref (the test server) fills in text/plain when a request sent no Content-Type; under
    # gunicorn the header is what was sent. Both readings are tried for that one value.
    candidates = [content_type, ""] if content_type == "text/plain" else [content_type]
    problem = None
    for candidate in candidates:
        try:
            return _oss_verify(request, bucket, key, candidate)
        except AuthProblem as exc:
            if exc.kind != "bad_signature":
                raise
            problem = problem or exc
    raise problem  # type: ignore[misc]


def _oss_verify(request: HttpRequest, bucket: str, key: str, content_type: str) -> AccessKey:
    authorization = request.headers.get("Authorization", "")
    query = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    content_md5 = request.headers.get("Content-MD5", "")
    if authorization.startswith("OSS4-HMAC-SHA256 "):
        try:
            fields = dict(part.strip().split("=", 1) for part in authorization[17:].split(","))
            key_id, date, region, product, terminator = fields["Credential"].split("/")
            signature = fields["Signature"]
            additional = [h for h in fields.get("AdditionalHeaders", "").split(";") if h]
            stamp = request.headers.get("x-oss-date", "")
            signed_at = float(timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ")))
        except (KeyError, ValueError) as exc:
            raise AuthProblem("missing", "the Authorization header is not an OSS4-HMAC-SHA256 signature") from exc
        _check_clock(signed_at)
        access_key, secret = _lookup(key_id)
        headers = dict(_oss_headers(request))
        if content_type:
            headers["content-type"] = content_type
        if content_md5:
            headers["content-md5"] = content_md5
        for name in additional:
            headers[name] = request.headers.get(name, "")
        canonical_headers = "".join(f"{k}:{headers[k]}\n" for k in sorted(headers))
        canonical_query = "&".join(
            f"{_v4_encode(k, False)}={_v4_encode(v, False)}" if v else _v4_encode(k, False)
            for k, v in sorted(query))
        uri = _v4_encode(f"/{bucket}/{key}" if bucket else "/", True)
        canonical = "\n".join([request.method or "", uri, canonical_query, canonical_headers,
                               ";".join(sorted(additional)), request.headers.get("x-oss-content-sha256", "UNSIGNED-PAYLOAD")])
        scope = f"{date}/{region}/{product}/{terminator}"
        to_sign = "\n".join(["OSS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        k = _hmac(("aliyun_v4" + secret).encode(), date)
        for part in (region, product, "aliyun_v4_request"):
            k = _hmac(k, part)
        expected = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    elif authorization.startswith("OSS "):
        key_id, _, signature = authorization[4:].partition(":")
        date = request.headers.get("x-oss-date", "") or request.headers.get("Date", "")
        try:
            signed_at = float(timegm(time.strptime(date, "%a, %d %b %Y %H:%M:%S GMT")))
        except ValueError as exc:
            raise AuthProblem("missing", "the Date header is missing or not an HTTP date") from exc
        _check_clock(signed_at)
        access_key, secret = _lookup(key_id)
        oss_headers = "".join(f"{k}:{v}\n" for k, v in _oss_headers(request))
        subresources = sorted((k, v) for k, v in query if k in OSS_SUBRESOURCES)
        resource = (f"/{bucket}/{key}" if bucket else "/") + (
            "?" + "&".join(f"{k}={v}" if v else k for k, v in subresources) if subresources else "")
        to_sign = "\n".join([request.method or "", content_md5, content_type, date, oss_headers + resource])
        expected = base64.b64encode(_hmac(secret.encode(), to_sign, hashlib.sha1)).decode()
    else:
        raise AuthProblem("missing", "an OSS signature (V1 or V4) is required")
    if not _same(expected, signature):
        raise AuthProblem("bad_signature", "The request signature we calculated does not match the signature you "
                          "provided. Check your key and signing method.", to_sign)
    return access_key
