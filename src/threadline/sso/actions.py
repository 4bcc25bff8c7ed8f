"""Writes for single sign-on: a workspace's provider settings, and the seat a verified identity signs in as
(linking it, or creating the agent just in time). Callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from threadline.audit.actions import SYSTEM, record, record_change, update_action
from threadline.core import crypto
from threadline.core.destinations import private_allowed
from threadline.core.errors import ValidationFailed
from threadline.core.http import refuse_private_url
from threadline.core.time import now
from threadline.sso.errors import SsoFailed
from threadline.sso.models import ExternalAccount, IdentityProvider, Kind
from threadline.tenancy.actions import check_email, check_role, do_add_agent
from threadline.tenancy.models import Membership, User, Workspace
from threadline.tenancy.permissions import Permission, require
from threadline.tenancy.signin import has_second_factor

SETTINGS = ("kind", "name", "enabled", "issuer", "client_id", "idp_metadata_url", "idp_metadata_xml",
            "idp_entity_id", "allowed_domains", "jit_enabled", "jit_role", "trust_mfa", "enforce")


@dataclass(frozen=True)
class Identity:
    """What a provider vouched for, once its answer was verified."""

    subject: str
    email: str
    email_verified: bool
    name: str = ""
    mfa: bool = False
    method: str = Kind.OIDC


def check_domains(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    domains = sorted({str(d).strip().lower().lstrip("@") for d in value or [] if str(d).strip()})
    for domain in domains:
        if "." not in domain or "@" in domain or " " in domain or len(domain) > 253:
            raise ValidationFailed(_("%(domain)s is not an email domain.") % {"domain": domain},
                                   field="allowed_domains")
    return domains


def check_provider(changes: dict[str, Any], current: IdentityProvider | None) -> dict[str, Any]:
    """The validated settings; a setting not in `changes` keeps its current value."""
    values = {f: changes[f] if f in changes else getattr(current, f, None) for f in SETTINGS}
    if values["kind"] not in Kind.values:
        raise ValidationFailed(_("Choose OpenID Connect or SAML 2.0."), field="kind")
    values["name"] = str(values["name"] or "").strip()[:100]
    if not values["name"]:
        raise ValidationFailed(_("Give the provider a name for the sign-in button."), field="name")
    values["allowed_domains"] = check_domains(values["allowed_domains"])
    values["jit_role"] = check_role(values["jit_role"] or "agent")
    for flag in ("enabled", "jit_enabled", "trust_mfa", "enforce"):
        values[flag] = bool(values[flag]) if values[flag] is not None else flag == "enabled"
    for field in ("issuer", "client_id", "idp_metadata_url", "idp_metadata_xml", "idp_entity_id"):
        values[field] = str(values[field] or "").strip()
    if values["kind"] == Kind.OIDC:
        if not values["issuer"].startswith(("https://", "http://")):
            raise ValidationFailed(_("Enter the provider's issuer URL."), field="issuer")
        if values["issuer"].startswith("http://") and not private_allowed():
            raise ValidationFailed(_("The issuer URL must start with https://."), field="issuer")
        if not values["client_id"]:
            raise ValidationFailed(_("Enter the client ID the provider gave you."), field="client_id")
        refuse_private_url(values["issuer"], field="issuer")
    else:
        if not values["idp_metadata_xml"] and not values["idp_metadata_url"]:
            raise ValidationFailed(_("Paste the provider's metadata, or give its URL."), field="idp_metadata_xml")
        if values["idp_metadata_url"]:
            refuse_private_url(values["idp_metadata_url"], field="idp_metadata_url")
    return values


def do_save_provider(actor: Membership, changes: dict[str, Any], *, client_secret: str | None = None
                     ) -> IdentityProvider:
    """Create or change the workspace's provider. `client_secret` None keeps the stored one (write-only)."""
    require(actor, Permission.ADMIN_SECURITY)
    provider = IdentityProvider.objects.filter(workspace_id=actor.workspace_id).first()
    values = check_provider(changes, provider)
    if values["enforce"] and not (provider and provider.enforce) and not has_second_factor(actor.user):
        raise ValidationFailed(_("Turn on two-factor sign-in for yourself first: once single sign-on is required, "
                                 "your password and code are the way in if the provider fails."), field="enforce")
    created = provider is None
    if provider is None:
        provider = IdentityProvider(workspace_id=actor.workspace_id)
    changed = {f: v for f, v in values.items() if created or getattr(provider, f) != v}
    for field, value in values.items():
        setattr(provider, field, value)
    if client_secret is not None:
        provider.secrets_encrypted = crypto.encrypt_json({**provider.secrets, "client_secret": client_secret})
        changed["client_secret"] = "set"
    if values["kind"] == Kind.OIDC and not provider.secrets.get("client_secret"):
        raise ValidationFailed(_("Enter the client secret the provider gave you."), field="client_secret")
    provider.save()
    if created or changed:
        record_change("sso.created" if created else update_action("sso", changed), provider, changed,
                      actor=actor)
    return provider


def do_delete_provider(actor: Membership) -> None:
    require(actor, Permission.ADMIN_SECURITY)
    provider = IdentityProvider.objects.filter(workspace_id=actor.workspace_id).first()
    if provider is not None:
        record_change("sso.deleted", provider, {"kind": provider.kind, "name": provider.name}, actor=actor)
        provider.delete()


def _vouched_user(provider: IdentityProvider, identity: Identity) -> tuple[User | None, str]:
    """The existing user the identity's email names (None: nobody has it yet), once the email may be
    believed: the provider verified it, or its domain is one the workspace says the provider speaks for."""
    try:
        email = check_email(identity.email)
    except ValidationFailed as exc:
        raise SsoFailed("no_email", "the provider sent no usable email address") from exc
    domain = email.rsplit("@", 1)[1]
    domains = provider.allowed_domains or []
    if domains and domain not in domains:
        raise SsoFailed("domain", f"{domain} is not among the workspace's allowed domains")
    if not (identity.email_verified or domain in domains):
        raise SsoFailed("unverified_email", f"the provider did not verify {email}")
    return User.objects.filter(email=email).first(), email


def do_sign_in_identity(provider: IdentityProvider, identity: Identity) -> Membership:
    """The seat in the provider's workspace that `identity` signs in as: its linked account's, else the seat
    of the person whose email it is (linking it), else a new agent when just-in-time creation is on.

    A person who has no seat in this workspace is never given one through single sign-on when they already
    have an account (they may work in other workspaces: an admin invites them first); SsoFailed otherwise."""
    if not identity.subject:
        raise SsoFailed("id_token", "the provider sent no subject")
    workspace: Workspace = provider.workspace
    account = (ExternalAccount.objects.select_related("user")
               .filter(provider=provider, subject=identity.subject).first())
    user, email = (account.user, account.user.email) if account else _vouched_user(provider, identity)
    if user is not None and (user.is_superuser or user.is_staff):
        raise SsoFailed("operator_account", "the operator's account cannot sign in through a workspace")
    membership = Membership.objects.filter(workspace=workspace, user=user).first() if user else None
    if membership is None:
        if user is not None:
            raise SsoFailed("not_a_member", f"{email} has an account but no seat in this workspace")
        if not provider.jit_enabled:
            raise SsoFailed("not_a_member", f"{email} has no seat and just-in-time creation is off")
        membership = do_add_agent(workspace, email, role=provider.jit_role, name=identity.name[:200])
        record_change("sso.agent_created", membership, {"email": email, "role": provider.jit_role,
                                                        "method": identity.method}, actor=SYSTEM)
    if not membership.is_active or not membership.user.is_active:
        raise SsoFailed("deactivated", f"{email}'s seat is deactivated")
    if account is None:
        account = ExternalAccount.objects.create(workspace=workspace, provider=provider,
                                                 subject=identity.subject, user=membership.user)
        record_change("sso.account_linked", account, {"email": email, "subject": identity.subject},
                      actor=SYSTEM)
    account.last_sign_in_at = now()
    account.save(update_fields=["last_sign_in_at", "updated_at"])
    return membership


def record_sso_failure(provider: IdentityProvider, failure: SsoFailed, *, email: str = "") -> None:
    """A refused single sign-on, in the provider's workspace (never a token or an assertion)."""
    details = {"method": provider.kind, "reason": failure.reason, "detail": failure.detail[:500]}
    if email:
        details["email"] = email
    record("signin.failed", workspace_id=provider.workspace_id, target_type="sso", target_id=provider.pk,
           details=details, actor=SYSTEM)
