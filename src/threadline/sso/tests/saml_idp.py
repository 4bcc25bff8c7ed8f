"""A real SAML 2.0 identity provider for the tests: pysaml2's `Server` (signing with xmlsec1) behind a small
WSGI app on loopback. It publishes its metadata, imports ours (as an IdP administrator would, from our
metadata URL), takes the AuthnRequest on its HTTP-Redirect endpoint and answers with the HTTP-POST form a
browser would submit to our assertion consumer service.

The knobs make it answer the way a misconfigured or hostile IdP would: unsigned, for another audience, to
another recipient, for another request.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server

PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
MFA_CONTEXT = "https://refeds.org/profile/mfa"


def key_and_certificate(directory: Path) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test idp")])
    moment = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(moment - dt.timedelta(days=1))
            .not_valid_after(moment + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_path, cert_path = directory / "idp.key", directory / "idp.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path)


@dataclass
class SamlIdp:
    directory: Path
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    login_as: str = ""
    context: str = PASSWORD_CONTEXT
    sign: bool = True
    audience: str | None = None  # None: the requesting SP's entity ID
    destination: str | None = None  # None: the ACS URL the request named
    in_response_to: str | None = None  # None: the request's ID
    base: str = ""
    server: Server | None = None
    metadata: str = ""
    conf: dict[str, Any] = field(default_factory=dict)

    def start(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        key_file, cert_file = key_and_certificate(self.directory)
        self.conf = {
            "entityid": f"{self.base}/metadata",
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "key_file": key_file, "cert_file": cert_file,
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(f"{self.base}/sso", BINDING_HTTP_REDIRECT)]},
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
            }},
        }
        self.metadata = create_metadata_string(None, config=self._build(), valid=24).decode()

    def _build(self) -> IdPConfig:
        config = IdPConfig()
        config.load(dict(self.conf))
        self.server = Server(config=config)
        policy = config.getattr("policy", "idp")
        conditions = policy.conditions
        # the audience it names: the requesting SP's entity ID, unless the test makes it name another one
        policy.conditions = lambda sp_entity_id: conditions(self.audience or sp_entity_id)
        return config

    def trust_sp(self, sp_metadata: str) -> None:
        """Import the service provider's metadata, as the IdP's administrator does."""
        self.conf["metadata"] = {"inline": [sp_metadata]}
        self._build()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        assert self.server is not None
        if environ["PATH_INFO"] == "/metadata":
            start_response("200 OK", [("Content-Type", "application/samlmetadata+xml")])
            return [self.metadata.encode()]
        if environ["PATH_INFO"] != "/sso":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        request = self.server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT).message
        user = self.users[self.login_as]
        destination = self.destination or request.assertion_consumer_service_url
        response = self.server.create_authn_response(
            {k: v for k, v in user.items() if k != "sub"},
            in_response_to=self.in_response_to or request.id, destination=destination,
            sp_entity_id=request.issuer.text, name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=user["sub"]),
            authn={"class_ref": self.context, "authn_auth": self.base},
            sign_assertion=self.sign, sign_response=self.sign)
        form = self.server.apply_binding(BINDING_HTTP_POST, str(response), destination,
                                         query.get("RelayState", ""), response=True)
        start_response("200 OK", [("Content-Type", "text/html")])
        return [form["data"].encode()]


def posted_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the IdP's auto-submitting form (what the browser posts)."""
    action = html.unescape(re.search(r'action="([^"]+)"', page).group(1))
    fields = {html.unescape(n): html.unescape(v)
              for n, v in re.findall(r'name="([^"]+)"\s+value="([^"]*)"', page)}
    return action, fields
