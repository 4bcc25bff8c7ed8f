"""SAML 2.0 as a service provider (pysaml2, which signs and verifies through the `xmlsec1` program).

Our side of a workspace's SAML set-up derives from THREADLINE_PUBLIC_URL: the entity ID is the metadata URL
`/login/sso/<slug>/metadata`, the assertion consumer service `/login/sso/<slug>/acs` (HTTP-POST). The
AuthnRequest goes out with the HTTP-Redirect binding; its ID is kept in the browser's session. The answer must
be signed by the IdP's certificate from its metadata (the assertion, or the whole response), carry our entity
ID as its audience and our ACS URL as destination and recipient, be within its NotBefore/NotOnOrAfter
window (60 s leeway) and answer this browser's request (InResponseTo; unsolicited responses are refused). An
assertion ID is accepted once (`UsedAssertion`), so a captured response cannot be replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction

from threadline.core import http
from threadline.core.destinations import DestinationRefused
from threadline.core.time import now
from threadline.sso.errors import SsoFailed
from threadline.sso.models import IdentityProvider, UsedAssertion

if TYPE_CHECKING:
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

# pysaml2 is imported by the functions that use it, not here: this module is loaded with the URLs by every
# process (web, worker, each CLI command), and pysaml2's import alone costs ~0.6 s of CPU where no workspace
# signs in with SAML.

logger = logging.getLogger(__name__)

LEEWAY_SECONDS = 60
METADATA_SECONDS = 600
MFA_CONTEXTS = frozenset({
    "https://refeds.org/profile/mfa",
    "http://schemas.microsoft.com/claims/multipleauthn",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:X509",
})
EMAIL_ATTRIBUTES = ("email", "mail", "emailAddress", "emailaddress",
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
                    "urn:oid:0.9.2342.19200300.100.1.3")
NAME_ATTRIBUTES = ("displayName", "name", "cn", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
                   "urn:oid:2.16.840.1.113730.3.1.241")


def sp_urls(provider: IdentityProvider) -> dict[str, str]:
    base = f"{settings.PUBLIC_URL.rstrip('/')}/login/sso/{provider.workspace.slug}"
    return {"entity_id": f"{base}/metadata", "acs": f"{base}/acs", "metadata": f"{base}/metadata"}


def xmlsec_binary() -> str:
    found = shutil.which("xmlsec1")
    if not found:
        raise SsoFailed("xmlsec", "the xmlsec1 program is not installed (apt-get install xmlsec1)")
    return found


def idp_metadata(provider: IdentityProvider, *, fresh: bool = False) -> str:
    """The IdP's metadata: pasted, else fetched from its URL through the outbound client (cached)."""
    if provider.idp_metadata_xml.strip():
        return provider.idp_metadata_xml
    url = provider.idp_metadata_url
    key = "tl:sso:saml-metadata:" + hashlib.sha256(url.encode()).hexdigest()
    document = None if fresh else cache.get(key)
    if document is None:
        try:
            response = http.get(url, max_bytes=2 * 1024 * 1024)
        except DestinationRefused as exc:
            raise SsoFailed("destination", str(exc)) from exc
        except (httpx.HTTPError, http.TooLarge) as exc:
            raise SsoFailed("unreachable", http.transport_failure(url, exc)) from exc
        if response.status_code != 200:
            raise SsoFailed("provider_error", f"{url} answered HTTP {response.status_code}")
        document = response.body.decode("utf-8", "replace")
        cache.set(key, document, METADATA_SECONDS)
    return document


def sp_config(provider: IdentityProvider, *, with_idp: bool = True) -> SPConfig:
    from saml2 import BINDING_HTTP_POST
    from saml2.config import SPConfig
    urls = sp_urls(provider)
    conf: dict[str, Any] = {
        "entityid": urls["entity_id"],
        "xmlsec_binary": xmlsec_binary(),
        "allow_unknown_attributes": True,
        "accepted_time_diff": LEEWAY_SECONDS,
        "service": {"sp": {
            "name": provider.workspace.name,
            "endpoints": {"assertion_consumer_service": [(urls["acs"], BINDING_HTTP_POST)]},
            "allow_unsolicited": False,
            "authn_requests_signed": False,
            "want_assertions_signed": False,
            "want_response_signed": False,
            "want_assertions_or_response_signed": True,
        }},
    }
    if with_idp:
        conf["metadata"] = {"inline": [idp_metadata(provider)]}
    config = SPConfig()
    try:
        config.load(conf)
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises many kinds for unusable metadata
        raise SsoFailed("metadata", f"the IdP metadata cannot be used: {type(exc).__name__}: {exc}") from exc
    return config


def sp_metadata(provider: IdentityProvider) -> str:
    """Our metadata, for the IdP's administrator (entity ID, ACS URL, the signatures we want)."""
    from saml2.metadata import create_metadata_string
    return create_metadata_string(None, config=sp_config(provider, with_idp=False), valid=24 * 7).decode()


def idp_entity_id(provider: IdentityProvider, client: Saml2Client) -> str:
    known = list(client.metadata.identity_providers())
    if provider.idp_entity_id:
        if provider.idp_entity_id not in known:
            raise SsoFailed("metadata", f"{provider.idp_entity_id} is not in the IdP metadata")
        return provider.idp_entity_id
    if len(known) != 1:
        raise SsoFailed("metadata", f"the metadata describes {len(known)} identity providers: name one")
    return known[0]


def describe(provider: IdentityProvider) -> dict[str, str]:
    """What the metadata says (the screen's connection test): the IdP's entity ID and sign-in URL."""
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.s_utils import UnknownPrincipal, UnsupportedBinding
    client = Saml2Client(config=sp_config(provider))
    entity = idp_entity_id(provider, client)
    try:
        url = next(iter(client.metadata.single_sign_on_service(entity, BINDING_HTTP_REDIRECT)))["location"]
    except (StopIteration, UnsupportedBinding, UnknownPrincipal) as exc:
        raise SsoFailed("metadata", "the IdP offers no HTTP-Redirect sign-in endpoint") from exc
    return {"entity_id": entity, "sso_url": url}


def start(provider: IdentityProvider) -> tuple[str, str]:
    """The URL of the IdP's sign-in with our AuthnRequest, and the request's ID."""
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.s_utils import UnknownPrincipal, UnsupportedBinding
    client = Saml2Client(config=sp_config(provider))
    try:
        request_id, info = client.prepare_for_authenticate(
            entityid=idp_entity_id(provider, client), binding=BINDING_HTTP_REDIRECT)
    except (UnsupportedBinding, UnknownPrincipal) as exc:
        raise SsoFailed("metadata", "the IdP offers no HTTP-Redirect sign-in endpoint") from exc
    return dict(info["headers"])["Location"], str(request_id)


def _first(values: dict[str, list[Any]], names: tuple[str, ...]) -> str:
    for name in names:
        for key, found in values.items():
            if key.lower() == name.lower() and found:
                return str(found[0])
    return ""


def finish(provider: IdentityProvider, saml_response: str, request_id: str) -> dict[str, Any]:
    """The verified assertion of the person the IdP signed in: `subject`, `email`, `name`, `mfa`."""
    from saml2 import BINDING_HTTP_POST
    from saml2.client import Saml2Client
    if not saml_response:
        raise SsoFailed("assertion", "no SAMLResponse")
    client = Saml2Client(config=sp_config(provider))
    try:
        response = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST,
                                                       outstanding={request_id: "/app/"})
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises a different class for every failed check
        raise SsoFailed("assertion", f"the SAML response was refused: {type(exc).__name__}: {exc}") from exc
    if response is None or response.assertion is None or response.name_id is None:
        # what pysaml2 leaves when the Destination is not our ACS URL (it logs which) or nothing could be read
        raise SsoFailed("assertion", "the SAML response is not addressed to us (Destination) or holds no "
                                     "usable assertion")
    assertion = response.assertion
    _use_once(provider, str(assertion.id), response.not_on_or_after)
    attributes = response.get_identity() or {}
    name_id = response.name_id
    email = _first(attributes, EMAIL_ATTRIBUTES)
    if not email and (name_id.format or "").endswith("emailAddress"):
        email = name_id.text or ""
    contexts = {str(info[0]) for info in response.authn_info() if info and info[0]}
    return {"subject": str(name_id.text or ""), "email": email.strip(), "name": _first(attributes, NAME_ATTRIBUTES),
            "mfa": bool(contexts & MFA_CONTEXTS)}


def _use_once(provider: IdentityProvider, assertion_id: str, not_on_or_after: int | float | None) -> None:
    """Refuse an assertion seen before; remember this one until it expires (and forget expired ones)."""
    moment = now()
    expires = (dt.datetime.fromtimestamp(not_on_or_after, dt.UTC) if not_on_or_after
               else moment + dt.timedelta(hours=1))
    UsedAssertion.objects.filter(expires_at__lt=moment - dt.timedelta(seconds=LEEWAY_SECONDS)).delete()
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(provider=provider, assertion_id=assertion_id[:255],
                                         expires_at=expires + dt.timedelta(seconds=LEEWAY_SECONDS))
    except IntegrityError as exc:
        raise SsoFailed("replay", f"assertion {assertion_id} was already used") from exc
