"""A workspace's identity provider, the accounts it has vouched for, and the SAML assertions already used."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core import crypto
from threadline.core.models import WorkspaceScoped
from threadline.tenancy.models import Role, User


class Kind(models.TextChoices):
    OIDC = "oidc", _("OpenID Connect")
    SAML = "saml", _("SAML 2.0")


class IdentityProvider(WorkspaceScoped):
    """The one identity provider of a workspace. Secrets (the OIDC client secret) are encrypted at rest."""

    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(_("name shown on the sign-in button"), max_length=100)
    enabled = models.BooleanField(default=True)
    # OpenID Connect
    issuer = models.URLField(_("issuer"), max_length=500, blank=True,
                             help_text=_("Its discovery document is <issuer>/.well-known/openid-configuration"))
    client_id = models.CharField(_("client ID"), max_length=255, blank=True)
    secrets_encrypted = models.TextField(blank=True, help_text=_("The client secret, encrypted at rest"))
    # SAML 2.0
    idp_metadata_url = models.URLField(_("IdP metadata URL"), max_length=500, blank=True)
    idp_metadata_xml = models.TextField(_("IdP metadata XML"), blank=True)
    idp_entity_id = models.CharField(_("IdP entity ID"), max_length=500, blank=True)
    # who may come in, and how
    allowed_domains = models.JSONField(
        default=list, blank=True,
        help_text=_("Email domains this provider speaks for: its addresses link to existing accounts"))
    jit_enabled = models.BooleanField(_("create agents on first sign-in"), default=False)
    jit_role = models.CharField(_("role of agents created on first sign-in"), max_length=16, choices=Role.choices,
                                default=Role.AGENT)
    trust_mfa = models.BooleanField(
        _("the provider enforces multi-factor authentication"), default=False,
        help_text=_("Count every sign-in through this provider as having passed a second factor"))
    enforce = models.BooleanField(_("require single sign-on"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="uniq_sso_provider_per_workspace")]

    @property
    def secrets(self) -> dict[str, Any]:
        return crypto.decrypt_json(self.secrets_encrypted)

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class ExternalAccount(WorkspaceScoped):
    """A subject at a workspace's identity provider, linked to the user it signs in as."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="accounts")
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "subject"], name="uniq_sso_subject")]


class UsedAssertion(models.Model):
    """A SAML assertion already accepted: a second use is a replay. Kept until the assertion expires."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    assertion_id = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "assertion_id"], name="uniq_sso_assertion")]
