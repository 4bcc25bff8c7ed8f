"""Visitor tokens and identity tokens.

Visitor token: `<visitor_id>.<signature>`, the signature an HMAC-SHA256 of `<channel_id>:<visitor_id>` with a
key derived from SECRET_KEY. The widget keeps it in localStorage, so history survives reloads and new tabs;
a token of one channel is worthless on another.

Identity token: the web app's server signs who its signed-in user is as a compact JWT (HS256, keyed with the
chat channel's `secret`): `sub` (the app's user id), optionally `email`, `name`, `phone`, and `iat` and `exp`
(required; at most MAX_LIFETIME ahead). Every field that can select or link a contact comes from it, so a
visitor can claim neither somebody else's account nor their email, and a captured token stops working
when it expires. The old `user_hash` (an HMAC of the user id alone, valid forever) is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext as _

from threadline.core import crypto
from threadline.core.errors import PermissionDenied

MAX_LIFETIME = dt.timedelta(hours=24)
LEEWAY_SECONDS = 60
ALGORITHM = "HS256"


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


@dataclass(frozen=True)
class IdentityClaims:
    """What a verified identity token says; `expires_at` bounds how long the visitor stays identified."""

    user_id: str
    expires_at: dt.datetime
    email: str = ""
    name: str = ""
    phone: str = ""


def identity_token(secret: str, user_id: str, *, email: str = "", name: str = "", phone: str = "",
                   lifetime: dt.timedelta = dt.timedelta(hours=1)) -> str:
    """What the web app's server mints for `identify()` (Python servers may call this; see the docs)."""
    issued = int(time.time())
    claims: dict[str, Any] = {"sub": user_id, "iat": issued, "exp": issued + int(lifetime.total_seconds())}
    claims.update({k: v for k, v in (("email", email), ("name", name), ("phone", phone)) if v})
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _refused(message: str, code: str) -> PermissionDenied:
    return PermissionDenied(message, code=code)


def read_identity_token(secret: str, token: str) -> IdentityClaims:
    """The claims of a genuine, current identity token signed with `secret`; PermissionDenied otherwise
    (`invalid_identity_token`, `identity_token_expired`, `identity_token_too_long`)."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise _refused(_("This identity could not be verified."), "invalid_identity_token")
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], leeway=LEEWAY_SECONDS,
                            options={"require": ["sub", "exp", "iat"]})
    except jwt.ExpiredSignatureError as exc:
        raise _refused(_("This identity has expired; sign in again."), "identity_token_expired") from exc
    except jwt.PyJWTError as exc:
        raise _refused(_("This identity could not be verified."), "invalid_identity_token") from exc
    expires = int(claims["exp"])
    if expires - time.time() > MAX_LIFETIME.total_seconds() + LEEWAY_SECONDS:
        raise _refused(_("An identity token may be valid for at most 24 hours."), "identity_token_too_long")
    extra = {key: claims.get(key) for key in ("email", "name", "phone")}
    if any(value is not None and not isinstance(value, str) for value in extra.values()):
        raise _refused(_("This identity could not be verified."), "invalid_identity_token")
    return IdentityClaims(user_id=claims["sub"], expires_at=dt.datetime.fromtimestamp(expires, tz=dt.UTC),
                          **{key: value or "" for key, value in extra.items()})
