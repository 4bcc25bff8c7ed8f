"""OpenID Connect: the authorization code flow with PKCE, state and nonce (Authlib's PKCE and ID-token claim
rules, joserfc for the signature).

Every request to the provider (discovery, keys, token, userinfo) goes through the one outbound HTTP client,
so the private-address policy applies (core.destinations). The ID token's signature is checked against the
provider's published keys (asymmetric algorithms only), then `iss` (the configured issuer, which the discovery
document must repeat exactly), `aud` (our client ID; `azp` when there are several), `exp`, `iat` and the
`nonce` of this sign-in. When the token carries no email, the userinfo endpoint is asked, and its `sub` must
be the token's.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from threadline.core import http
from threadline.core.crypto import constant_time_equals
from threadline.core.destinations import DestinationRefused
from threadline.sso.errors import SsoFailed
from threadline.sso.models import IdentityProvider

logger = logging.getLogger(__name__)

SCOPES = "openid email profile"
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY = 60
DISCOVERY_SECONDS = 300
MFA_METHODS = frozenset({"mfa", "otp", "hwk", "swk", "sc", "fido", "face", "fpt", "iris", "retina", "vbm"})


@dataclass(frozen=True)
class Pending:
    """What the session keeps between the redirect to the provider and the callback."""

    state: str
    nonce: str
    verifier: str


def redirect_uri(provider: IdentityProvider) -> str:
    """Where the provider sends the browser back (register it at the provider)."""
    return f"{settings.PUBLIC_URL.rstrip('/')}/login/sso/{provider.workspace.slug}/callback"


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _fetch_json(url: str, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    try:
        response = http.get(url, headers={"Accept": "application/json", **(headers or {})}, max_bytes=512 * 1024)
    except DestinationRefused as exc:
        raise SsoFailed("destination", str(exc)) from exc
    except (httpx.HTTPError, http.TooLarge) as exc:
        raise SsoFailed("unreachable", http.transport_failure(url, exc)) from exc
    if response.status_code != 200:
        raise SsoFailed("provider_error", f"{url} answered HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError as exc:
        raise SsoFailed("provider_error", f"{url} did not answer JSON") from exc
    if not isinstance(document, dict):
        raise SsoFailed("provider_error", f"{url} did not answer a JSON object")
    return document


def discover(issuer: str, *, fresh: bool = False) -> dict[str, Any]:
    """The provider's discovery document (cached a few minutes); its `issuer` must be the configured one."""
    key = "tl:sso:discovery:" + hashlib.sha256(issuer.encode()).hexdigest()
    document = None if fresh else cache.get(key)
    if document is None:
        document = _fetch_json(discovery_url(issuer))
        if document.get("issuer") != issuer:
            raise SsoFailed("issuer", f"the discovery document names issuer {document.get('issuer')!r}, "
                                      f"not {issuer!r}")
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(field), str) or not document[field].startswith(("https://", "http://")):
                raise SsoFailed("provider_error", f"the discovery document has no usable {field}")
        cache.set(key, document, DISCOVERY_SECONDS)
    return document


def start(provider: IdentityProvider, redirect_uri: str) -> tuple[str, Pending]:
    """The URL to send the browser to, and what to keep in the session until the callback."""
    document = discover(provider.issuer)
    pending = Pending(state=generate_token(32), nonce=generate_token(32), verifier=generate_token(64))
    params = {
        "response_type": "code", "client_id": provider.client_id, "redirect_uri": redirect_uri, "scope": SCOPES,
        "state": pending.state, "nonce": pending.nonce,
        "code_challenge": create_s256_code_challenge(pending.verifier), "code_challenge_method": "S256",
    }
    endpoint = document["authorization_endpoint"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}", pending


def _client_auth(provider: IdentityProvider, document: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """client_secret_basic unless the provider only takes client_secret_post (RFC 6749 2.3.1)."""
    secret = str(provider.secrets.get("client_secret") or "")
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" not in methods and "client_secret_post" in methods:
        return {}, {"client_id": provider.client_id, "client_secret": secret}
    pair = f"{quote(provider.client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}, {"client_id": provider.client_id}


def _exchange(provider: IdentityProvider, document: dict[str, Any], code: str, redirect_uri: str,
              verifier: str) -> dict[str, Any]:
    headers, extra = _client_auth(provider, document)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier, **extra}
    url = document["token_endpoint"]
    try:
        response = http.post_form(url, data=data, headers={"Accept": "application/json", **headers})
    except DestinationRefused as exc:
        raise SsoFailed("destination", str(exc)) from exc
    except httpx.HTTPError as exc:
        raise SsoFailed("unreachable", http.transport_failure(url, exc)) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        error = body.get("error") if isinstance(body, dict) else None
        raise SsoFailed("token", f"the token endpoint answered HTTP {response.status_code} ({error or 'no ID token'})")
    return body


def signing_keys(document: dict[str, Any]) -> dict[str, Any]:
    """The provider's published keys (JWKS)."""
    keys = _fetch_json(document["jwks_uri"])
    if not isinstance(keys.get("keys"), list):
        raise SsoFailed("provider_error", "the provider's key set has no keys")
    return keys


def verify_id_token(provider: IdentityProvider, document: dict[str, Any], id_token: str, *, nonce: str,
                    access_token: str | None = None) -> dict[str, Any]:
    """The ID token's claims, once its signature and claims are checked; SsoFailed otherwise."""
    keys = signing_keys(document)
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in ALGORITHMS if a in offered] or ["RS256"]
    try:
        token = jwt.decode(id_token, KeySet.import_key_set(keys), algorithms=algorithms)
        claims = CodeIDToken(
            token.claims, token.header,
            options={"iss": {"essential": True, "value": provider.issuer},
                     "aud": {"essential": True, "value": provider.client_id},
                     "sub": {"essential": True}},
            params={"nonce": nonce, "client_id": provider.client_id, "access_token": access_token},
        )
        claims.validate(leeway=LEEWAY)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        name = getattr(exc, "claim", None) or getattr(exc, "error", None) or type(exc).__name__
        raise SsoFailed("id_token", f"the ID token was refused: {name}: {exc}") from exc
    return dict(claims)


def finish(provider: IdentityProvider, redirect_uri: str, pending: Pending, query: dict[str, str]) -> dict[str, Any]:
    """The verified claims of the person the provider signed in (with `email` from userinfo when needed)."""
    if query.get("error"):
        raise SsoFailed("provider_error", f"the provider answered {query.get('error')!r}")
    if not constant_time_equals(query.get("state") or "", pending.state):
        raise SsoFailed("state", "the state does not match this sign-in")
    if not query.get("code"):
        raise SsoFailed("provider_error", "the provider sent no code")
    document = discover(provider.issuer)
    tokens = _exchange(provider, document, query["code"], redirect_uri, pending.verifier)
    access_token = tokens.get("access_token") if isinstance(tokens.get("access_token"), str) else None
    claims = verify_id_token(provider, document, tokens["id_token"], nonce=pending.nonce, access_token=access_token)
    if not claims.get("email") and access_token and isinstance(document.get("userinfo_endpoint"), str):
        info = _fetch_json(document["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"})
        if info.get("sub") != claims["sub"]:
            raise SsoFailed("id_token", "the userinfo answer is about another subject")
        claims = {**info, **claims}
    return claims


def asserts_mfa(claims: dict[str, Any]) -> bool:
    """Whether the provider says this sign-in used more than a password (`amr`, RFC 8176)."""
    methods = claims.get("amr")
    return isinstance(methods, list) and any(str(m).lower() in MFA_METHODS for m in methods)
