"""The media storage from the environment: local disk (the default), an S3-compatible bucket
(STORAGE_BACKEND=s3 and the S3_* variables), or any Django storage class by dotted path."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from console.env import SettingError, env_choice, env_int, env_str

LOCAL = "media_jobs.storage.AtomicFileSystemStorage"
S3 = "media_jobs.storage_s3.AtomicS3Storage"
# Pre-signed URLs live at most 7 days under AWS Signature Version 4.
MAX_URL_EXPIRY = 7 * 24 * 3600


def storage_from_env() -> dict[str, Any]:
    """The STORAGES["default"] entry."""
    backend = env_str("STORAGE_BACKEND", "").strip()
    if backend in ("", "local"):
        return {"BACKEND": LOCAL}
    if backend.lower() != "s3":
        return {"BACKEND": backend}
    return {"BACKEND": S3, "OPTIONS": s3_options()}


def s3_options() -> dict[str, Any]:
    bucket = env_str("S3_BUCKET").strip()
    if not bucket:
        raise SettingError("S3_BUCKET is required with STORAGE_BACKEND=s3")
    endpoint = env_str("S3_ENDPOINT_URL").strip() or None
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise SettingError(f"S3_ENDPOINT_URL={endpoint!r} is not an http(s) URL")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": env_str("S3_REGION").strip() or None,
        # Unset: boto3's own chain (AWS_* variables, instance or pod role, shared config files).
        "access_key": env_str("S3_ACCESS_KEY_ID").strip() or None,
        "secret_key": env_str("S3_SECRET_ACCESS_KEY").strip() or None,
        "addressing_style": env_choice("S3_ADDRESSING_STYLE", "auto", ("auto", "path", "virtual")),
        "location": env_str("S3_PREFIX").strip().strip("/"),
        "querystring_expire": env_int("S3_URL_EXPIRY", 3600, minimum=60, maximum=MAX_URL_EXPIRY),
        "multipart_threshold_mb": env_int("S3_MULTIPART_THRESHOLD_MB", 16, minimum=5),
        "multipart_chunk_mb": env_int("S3_MULTIPART_CHUNK_MB", 16, minimum=5),
        "transfer_concurrency": env_int("S3_TRANSFER_CONCURRENCY", 4, minimum=1, maximum=32),
        "signature_version": "s3v4",
        "default_acl": None,
        "use_ssl": not (endpoint or "").startswith("http://"),
    }
    public = env_str("S3_PUBLIC_BASE_URL").strip().rstrip("/")
    if public:
        parts = urlsplit(public)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingError(f"S3_PUBLIC_BASE_URL={public!r} is not an http(s) URL")
        # Media is public under this origin (a CDN, a public-read bucket): plain, lasting links.
        options.update(custom_domain=parts.netloc + parts.path, url_protocol=f"{parts.scheme}:",
                       querystring_auth=False)
    else:
        options["querystring_auth"] = True
    return options
