"""The security screen's "test the connection": reach the provider the way a sign-in would (OpenID Connect:
discovery and keys, through the outbound client and its private-address policy; SAML: the metadata) and say
what was found. SsoFailed says what is wrong."""

from __future__ import annotations

from threadline.sso import oidc, saml
from threadline.sso.models import IdentityProvider, Kind


def check_connection(provider: IdentityProvider) -> dict[str, str]:
    if provider.kind == Kind.SAML:
        saml.idp_metadata(provider, fresh=True)
        return saml.describe(provider)
    document = oidc.discover(provider.issuer, fresh=True)
    keys = oidc.signing_keys(document)
    return {"entity_id": str(document["issuer"]), "sso_url": str(document["authorization_endpoint"]),
            "keys": str(len(keys.get("keys") or []))}
