"""Secrets at rest (channel credentials, webhook secrets) and request signatures.

Encryption keys derive from SECRET_KEY with HKDF, so a copied database alone does not reveal channel secrets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"threadline", info=b"config-at-rest").derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_json(value: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("stored secret cannot be decrypted with this SECRET_KEY") from exc


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def idempotency_key(purpose: str, *parts: object) -> str:
    """A key naming one operation for a receiver that deduplicates on it (an `Idempotency-Key` header, an
    email's Message-ID): the same for the same `parts` on every attempt, distinct across installations and not
    guessable from the ids (keyed with the secret key); shaped as a UUID, which most receivers expect."""
    digest = hmac_sha256_hex(f"{settings.SECRET_KEY}:{purpose}", ":".join(str(part) for part in parts).encode())
    return str(uuid.UUID(hex=digest[:32]))


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def token_digest(raw: str) -> str:
    """How API tokens are stored: only their SHA-256, so a leaked database holds no usable token."""
    return hashlib.sha256(raw.encode()).hexdigest()
