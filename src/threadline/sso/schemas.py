"""Request and response shapes of the single sign-on settings endpoint (/api/v1/sso)."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import Input
from threadline.sso import oidc, saml
from threadline.sso.models import IdentityProvider


class SsoProviderOut(Schema):
    kind: str = Field(description="oidc or saml")
    name: str
    enabled: bool
    issuer: str
    client_id: str
    client_secret_set: bool = Field(description="Whether a client secret is stored (it is never returned)")
    idp_metadata_url: str
    idp_entity_id: str
    allowed_domains: list[str]
    jit_enabled: bool
    jit_role: str
    trust_mfa: bool
    enforce: bool
    redirect_uri: str = Field(description="OpenID Connect: register this redirect URI at the provider")
    sp_entity_id: str = Field(description="SAML: our entity ID, which is also our metadata URL")
    acs_url: str = Field(description="SAML: our assertion consumer service (HTTP-POST)")
    updated_at: dt.datetime

    @staticmethod
    def resolve_client_secret_set(obj: IdentityProvider) -> bool:
        return bool(obj.secrets.get("client_secret"))

    @staticmethod
    def resolve_redirect_uri(obj: IdentityProvider) -> str:
        return oidc.redirect_uri(obj)

    @staticmethod
    def resolve_sp_entity_id(obj: IdentityProvider) -> str:
        return saml.sp_urls(obj)["entity_id"]

    @staticmethod
    def resolve_acs_url(obj: IdentityProvider) -> str:
        return saml.sp_urls(obj)["acs"]


class SsoProviderIn(Input):
    kind: str = Field(description="oidc or saml")
    name: str = Field(max_length=100)
    enabled: bool = True
    issuer: str = Field("", max_length=500)
    client_id: str = Field("", max_length=255)
    client_secret: str | None = Field(None, max_length=2000, description="Omit to keep the stored secret")
    idp_metadata_url: str = Field("", max_length=500)
    idp_metadata_xml: str = Field("", max_length=1_000_000)
    idp_entity_id: str = Field("", max_length=500)
    allowed_domains: list[str] = Field(default_factory=list, max_length=100)
    jit_enabled: bool = False
    jit_role: str = "agent"
    trust_mfa: bool = False
    enforce: bool = False


class SsoTestOut(Schema):
    entity_id: str = Field(description="The provider's issuer or SAML entity ID")
    sso_url: str = Field(description="Where the provider signs people in")
    keys: str = Field("", description="OpenID Connect: how many signing keys it publishes")
