"""A real OpenID Connect provider for the tests: pyop (IdentityPython's provider library) served over HTTP on
loopback by a small WSGI app in a thread. It publishes its discovery document and keys, runs the
authorization endpoint (the person "signed in" is whoever the test names), the token endpoint (client
authentication, PKCE) and userinfo.

`tamper` makes it misbehave the way a broken or hostile provider would: claims of the ID token changed (still
signed with its published key), or the token signed with a key it never published.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse
from wsgiref.simple_server import WSGIRequestHandler, make_server

from Cryptodome.PublicKey import RSA
from jwkest.jwk import RSAKey
from oic.oic.message import IdToken
from pyop.authz_state import AuthorizationState
from pyop.exceptions import BearerTokenError, InvalidAuthenticationRequest, OAuthError
from pyop.provider import Provider
from pyop.subject_identifier import HashBasedSubjectIdentifierFactory
from pyop.userinfo import Userinfo

from threadline.testing.serving import serve_in_thread, stop_serving

_KEYS: dict[str, RSAKey] = {}


def signing_key(kid: str) -> RSAKey:
    """RSA keys are slow to make: one per name for the whole run."""
    if kid not in _KEYS:
        _KEYS[kid] = RSAKey(key=RSA.generate(2048), alg="RS256", kid="idp-key")
    return _KEYS[kid]


class TamperingProvider(Provider):
    tamper: dict[str, Any]
    rogue_key: bool = False

    def _create_signed_id_token(self, *args: Any, **kwargs: Any) -> str:
        token = super()._create_signed_id_token(*args, **kwargs)
        if not self.tamper and not self.rogue_key:
            return token
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims.update(self.tamper)
        key = signing_key("rogue") if self.rogue_key else self.signing_key
        return IdToken(**claims).to_jwt([key], "RS256")


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@dataclass
class OidcIdp:
    """The provider; `users` maps a login name to its claims (with `sub`); `login_as` is who signs in next."""

    client_id: str = "threadline"
    client_secret: str = "s3cret-from-the-idp"
    redirect_uris: list[str] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    login_as: str = ""
    amr: list[str] | None = None
    base: str = ""
    provider: TamperingProvider | None = None
    token_requests: int = 0

    def start(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        config = {
            "issuer": "https://placeholder.invalid", "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token", "jwks_uri": f"{self.base}/jwks",
            "userinfo_endpoint": f"{self.base}/userinfo", "response_types_supported": ["code"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
        }
        clients = {self.client_id: {
            "client_secret": self.client_secret, "redirect_uris": self.redirect_uris, "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic"}}
        self.provider = TamperingProvider(
            signing_key("idp"), config, AuthorizationState(HashBasedSubjectIdentifierFactory("salt")), clients,
            Userinfo(self.users))
        self.provider.tamper = {}
        # pyop insists on an https issuer; this one is plain HTTP on loopback (the code under test allows
        # that only while private destinations are allowed, as in the tests)
        self.provider.configuration_information["issuer"] = self.base

    @property
    def tamper(self) -> dict[str, Any]:
        assert self.provider is not None
        return self.provider.tamper

    def sign_with_rogue_key(self) -> None:
        assert self.provider is not None
        self.provider.rogue_key = True

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        assert self.provider is not None
        path, query = environ["PATH_INFO"], environ.get("QUERY_STRING", "")
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        try:
            if path == "/.well-known/openid-configuration":
                return _json(start_response, self.provider.provider_configuration.to_dict())
            if path == "/jwks":
                return _json(start_response, self.provider.jwks)
            if path == "/authorize":
                request = self.provider.parse_authentication_request(query)
                response = self.provider.authorize(request, self.login_as)
                start_response("302 Found", [("Location", response.request(request["redirect_uri"], False))])
                return [b""]
            if path == "/token":
                self.token_requests += 1
                extra = {"amr": self.amr} if self.amr else None  # how the person authenticated
                return _json(start_response, self.provider.handle_token_request(
                    body, headers, extra_id_token_claims=extra).to_dict())
            if path == "/userinfo":
                return _json(start_response, self.provider.handle_userinfo_request(body or query, headers).to_dict())
        except (InvalidAuthenticationRequest, OAuthError, BearerTokenError) as exc:
            return _json(start_response, {"error": str(getattr(exc, "oauth_error", "invalid_request"))},
                         status="400 Bad Request")
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]


def _json(start_response: Any, document: Any, *, status: str = "200 OK") -> list[bytes]:
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps(document).encode()]


@contextmanager
def running(idp: Any) -> Iterator[Any]:
    """Serve the WSGI app `idp` on a free loopback port (its `start(port)` learns which) until the block ends."""
    server = make_server("127.0.0.1", 0, idp, handler_class=_Quiet)
    idp.start(server.server_port)
    serve_in_thread(server)
    try:
        yield idp
    finally:
        stop_serving(server)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
