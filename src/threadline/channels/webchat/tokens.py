"""Visitor tokens and identity verification.

Visitor token: `<visitor_id>.<signature>`, the signature an HMAC-SHA256 of `<channel_id>:<visitor_id>` with a
key derived from SECRET_KEY. The widget keeps it in localStorage, so history survives reloads and new tabs;
a token of one channel is worthless on another.

Identity verification (as Intercom's): the web app's server computes
`user_hash = hex(HMAC-SHA256(channel secret, user_id))` and passes it with `identify()`; a wrong or missing
hash is refused, so a visitor can never claim somebody else's account and read their history.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from threadline.core import crypto


def _key() -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"threadline", info=b"webchat-visitor-token").derive(
        settings.SECRET_KEY.encode()
    )


def _signature(channel_id: int, visitor_id: str) -> str:
    return hmac.new(_key(), f"{channel_id}:{visitor_id}".encode(), hashlib.sha256).hexdigest()


def new_visitor_id() -> str:
    return secrets.token_hex(16)


def issue(channel_id: int, visitor_id: str) -> str:
    return f"{visitor_id}.{_signature(channel_id, visitor_id)}"


def read(channel_id: int, token: str) -> str | None:
    """The visitor id inside a genuine token of this channel, else None."""
    visitor_id, _sep, signature = (token or "").partition(".")
    if not visitor_id or len(visitor_id) > 64 or not signature:
        return None
    return visitor_id if crypto.constant_time_equals(signature, _signature(channel_id, visitor_id)) else None


def identity_hash(secret: str, user_id: str) -> str:
    """What the web app's server computes for `identify()`: hex HMAC-SHA256 of the user id."""
    return crypto.hmac_sha256_hex(secret, user_id.encode())


def identity_hash_matches(secret: str, user_id: str, given: str) -> bool:
    return bool(given) and crypto.constant_time_equals(given.strip().lower(), identity_hash(secret, user_id))
