"""Google service-account access tokens: the OAuth 2.0 JWT bearer grant (RFC 7523) at the key's `token_uri`.

The JWT is signed RS256 with the key's `private_key` (its `private_key_id` as `kid`), claims `iss` = the
service account's email, `scope`, `aud` = Google's token endpoint, `iat`/`exp` one hour apart (the claims
Google's own auth library sends). The access token is kept in the cache (shared by every worker with Redis)
until a minute before it expires, keyed by the key and scope, so one token serves every conversation of a bot.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import jwt
from django.core.cache import cache

from threadline.botplatforms import transport
from threadline.botplatforms.base import BotAuthError, BotConfigError, PermanentBotError
from threadline.core import http

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# The assertion's audience is Google's token endpoint whatever `token_uri` it is posted to, as Google's own auth
# library does (a gateway or a test fake at another token_uri checks for this audience too).
AUDIENCE = "https://oauth2.googleapis.com/token"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LIFETIME = 3600
MARGIN = 60  # seconds before expiry when a cached token is no longer handed out


def _cache_key(key: dict[str, Any], scope: str) -> str:
    ident = "\n".join([str(key.get("client_email")), str(key.get("private_key_id", "")), key["token_uri"], scope])
    return "botplatforms:gsa:" + hashlib.sha256(ident.encode()).hexdigest()


def assertion(key: dict[str, Any], scope: str, *, now: int | None = None) -> str:
    issued = int(time.time()) if now is None else now
    claims = {"iss": key["client_email"], "scope": scope, "aud": AUDIENCE, "iat": issued,
              "exp": issued + LIFETIME}
    headers = {"kid": key["private_key_id"]} if key.get("private_key_id") else None
    try:
        return jwt.encode(claims, key["private_key"], algorithm="RS256", headers=headers)
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise BotConfigError("service_account_key: private_key is not a usable RSA key") from exc


def access_token(key: dict[str, Any], *, scope: str = SCOPE, seconds: float = 10.0) -> str:
    """A bearer token for `key` (cached until shortly before it expires)."""
    cache_key = _cache_key(key, scope)
    cached = cache.get(cache_key)
    if cached:
        return str(cached)
    signed = assertion(key, scope)
    platform = "Google token endpoint"
    try:
        response = transport.call(platform, lambda: http.post_form(
            key["token_uri"], data={"grant_type": GRANT, "assertion": signed}, timeout=transport.timeout(seconds)))
    except PermanentBotError as exc:
        if exc.status in (400, 401, 403):  # invalid_grant (bad signature, unknown key), unauthorized_client
            raise BotAuthError(f"{platform} refused the service account key: {exc.message}", status=exc.status) from exc
        raise
    document = transport.json_body(platform, response)
    token = document.get("access_token")
    if not isinstance(token, str) or not token:
        raise PermanentBotError(f"{platform} answered without an access_token")
    try:
        expires_in = int(document.get("expires_in", LIFETIME))
    except (TypeError, ValueError):
        expires_in = LIFETIME
    if expires_in > MARGIN:
        cache.set(cache_key, token, timeout=expires_in - MARGIN)
    return token


def forget(key: dict[str, Any], *, scope: str = SCOPE) -> None:
    """Drop the cached token (the API refused it: revoked, or the key was rotated)."""
    cache.delete(_cache_key(key, scope))

