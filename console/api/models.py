"""API keys, the idempotency records of API POSTs, and which key created what."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "ld_"
# last_used_at is written at most this often per key, so reads stay reads.
_TOUCH_EVERY = timedelta(seconds=60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class IssuedKey(models.Model):
    """What API keys and access keys share: a name, who made it, when it was last used, and
    revocation (refused at once)."""

    name = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def touch(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at > _TOUCH_EVERY:
            type(self).objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class ApiKey(IssuedKey):
    """A bearer token for the JSON API. Single tenant: every active key sees the whole library.

    The token (`ld_<lookup>_<secret>`) is shown once when created; only its SHA-256 is kept.
    `lookup` is a public, unique part used to find the row without scanning hashes.
    States: active → revoked (by an operator; a revoked key is refused at once).
    """

    lookup = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)

    class Meta(IssuedKey.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def prefix(self) -> str:
        return f"{TOKEN_PREFIX}{self.lookup}"

    @property
    def shown_id(self) -> str:
        return f"{self.prefix}…"

    @classmethod
    def issue(cls, name: str, user: models.Model | None = None) -> tuple["ApiKey", str]:
        """Create a key; returns it and the token, which is never available again."""
        lookup = secrets.token_hex(6)
        token = f"{TOKEN_PREFIX}{lookup}_{secrets.token_urlsafe(32)}"
        key = cls.objects.create(name=name, lookup=lookup, token_hash=hash_token(token), created_by=user)
        return key, token

    @classmethod
    def authenticate(cls, token: str) -> "ApiKey | None":
        """The active key this token belongs to, or None."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        lookup = token[len(TOKEN_PREFIX):].split("_", 1)[0]
        key = cls.objects.filter(lookup=lookup, revoked_at__isnull=True).first()
        if key is None or not hmac.compare_digest(key.token_hash, hash_token(token)):
            return None
        return key



class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an Idempotency-Key, replayed for the same key and body.

    A row is written before the request runs (`status_code` null while it runs), so a concurrent
    duplicate finds it and is refused instead of creating a second object.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_unique")]


class ApiAction(models.Model):
    """Which key created or changed what, with the request id (attribution without touching the
    media_jobs models)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, related_name="actions")
    access_key = models.ForeignKey("AccessKey", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="actions")
    request_id = models.CharField(max_length=32)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="api_action_object")]


class AccessKey(IssuedKey):
    """A SecretId/SecretKey (Tencent) or AccessKeyId/AccessKeySecret (Alibaba) pair for the vendor
    dialects (console.dialects). HMAC signatures need the secret itself at verification, so it is
    kept encrypted (console.dialects.keys), never hashed; it is shown once when created."""

    key_id = models.CharField(max_length=40, unique=True, editable=False)
    secret_encrypted = models.TextField(editable=False)

    class Meta(IssuedKey.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"

    @property
    def prefix(self) -> str:
        return self.key_id

    @property
    def shown_id(self) -> str:
        return self.key_id


class OssObject(models.Model):
    """A name in the OSS-style endpoint (console.dialects.oss): bucket and key of a video put
    there, or of an animated image written there by `sys/saveas`. Buckets are namespaces over
    the one media library; the bytes live where the library keeps them."""

    bucket = models.CharField(max_length=63)
    key = models.CharField(max_length=1023)
    video = models.ForeignKey("media_jobs.Video", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    image = models.ForeignKey("media_jobs.AnimatedImage", on_delete=models.CASCADE, null=True, blank=True,
                              related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "key"], name="oss_object_unique")]

    def __str__(self) -> str:
        return f"oss://{self.bucket}/{self.key}"
