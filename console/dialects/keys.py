"""Access keys for the vendor dialects: the secret is encrypted at rest with Fernet (the
`cryptography` library: authenticated AES, a kept implementation rather than our own), under a
key derived with HKDF from ACCESS_KEY_ENCRYPTION_KEY (by default SECRET_KEY). Rotating that
setting makes every stored secret unreadable: create new access keys then."""

from __future__ import annotations

import base64
import functools
import secrets
import string

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db.models import Model

from console.api.models import AccessKey

_ALPHABET = string.ascii_letters + string.digits


@functools.lru_cache(maxsize=4)
def _fernet(material: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"loopdeck-access-keys",
               info=b"access key secrets v1").derive(material.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def _cipher() -> Fernet:
    return _fernet(settings.ACCESS_KEY_ENCRYPTION_KEY or settings.SECRET_KEY)


def create_access_key(name: str, user: Model | None = None) -> tuple[AccessKey, str]:
    """A new key and its secret, which is never available again from here."""
    key_id = "AKLD" + "".join(secrets.choice(_ALPHABET) for _ in range(28))
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(40))
    key = AccessKey.objects.create(key_id=key_id, name=name.strip()[:64] or key_id, created_by=user,
                                   secret_encrypted=_cipher().encrypt(secret.encode()).decode())
    return key, secret


def revoke_access_key(key_id: str) -> bool:
    key = AccessKey.objects.filter(key_id=key_id).first()
    if key is None:
        return False
    key.revoke()
    return True


def active_key(key_id: str) -> tuple[AccessKey, str] | None:
    """The active key with this id and its secret, or None (unknown, revoked or unreadable)."""
    key = AccessKey.objects.filter(key_id=key_id, revoked_at__isnull=True).first() if key_id else None
    if key is None:
        return None
    try:
        return key, _cipher().decrypt(key.secret_encrypted.encode()).decode()
    except InvalidToken:
        return None


def secret_for(key_id: str) -> str | None:
    found = active_key(key_id)
    return found[1] if found else None
