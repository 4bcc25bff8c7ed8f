"""Reads for single sign-on: a workspace's provider, and which seats a session that did not come through
single sign-on may use (enforcement)."""

from __future__ import annotations

from typing import Any

from threadline.core.errors import NotFound
from threadline.sso.models import IdentityProvider
from threadline.tenancy.models import Membership, User, Workspace
from threadline.tenancy.permissions import Permission, has_permission, require

SSO_WORKSPACE = "tl_sso_workspace"  # in the session: the workspace whose provider signed this session in


def provider_of(workspace: Workspace | int) -> IdentityProvider | None:
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return IdentityProvider.objects.filter(workspace_id=workspace_id).select_related("workspace").first()


def enabled_provider_for_slug(slug: str) -> IdentityProvider:
    """The enabled provider of the workspace called `slug` (NotFound otherwise: the same for both cases)."""
    provider = (IdentityProvider.objects.filter(workspace__slug=slug, enabled=True)
                .select_related("workspace").first())
    if provider is None:
        raise NotFound("no single sign-on for this workspace", code="not_found")
    return provider


def providers_for_domain(domain: str) -> list[IdentityProvider]:
    """Enabled providers that speak for addresses at `domain` (the sign-in page's email-first step)."""
    domain = domain.strip().lower()
    return [p for p in IdentityProvider.objects.filter(enabled=True).select_related("workspace")
            if domain in (p.allowed_domains or [])]


def break_glass(membership: Membership, second_factor: bool) -> bool:
    """A member who may still use their password in a workspace that requires single sign-on: one whose
    role grants the security settings and who passed a second factor (so a broken provider never locks the
    workspace out, and a stolen password alone is not enough)."""
    return second_factor and has_permission(membership, Permission.ADMIN_SECURITY)


def enforced_workspace_ids(user: User | Any) -> set[int]:
    """The workspaces among `user`'s seats that require single sign-on."""
    return set(IdentityProvider.objects.filter(
        enforce=True, enabled=True,
        workspace_id__in=Membership.objects.filter(user_id=user.pk).values("workspace_id"),
    ).values_list("workspace_id", flat=True))


def password_refused(user: User, *, has_second_factor: bool) -> bool:
    """Whether a password sign-in of `user` would open no workspace at all: every active seat is in a
    workspace that requires single sign-on and none allows the break-glass path."""
    seats = list(Membership.objects.filter(user_id=user.pk, is_active=True))
    if not seats:
        return False
    enforced = enforced_workspace_ids(user)
    return all(m.workspace_id in enforced and not break_glass(m, has_second_factor) for m in seats)


def usable_seats(user: Any, session: Any, memberships: Any, *, second_factor: bool) -> Any:
    """`memberships` (a queryset of `user`'s) narrowed to what this session may open: a session made by a
    workspace's provider opens that workspace only; any other session opens no workspace that requires single
    sign-on, except for the break-glass path."""
    if session is None:
        return memberships
    sso_workspace = session.get(SSO_WORKSPACE)
    if sso_workspace:
        return memberships.filter(workspace_id=sso_workspace)
    enforced = enforced_workspace_ids(user)
    if not enforced:
        return memberships
    refused = [m.pk for m in memberships.filter(workspace_id__in=enforced) if not break_glass(m, second_factor)]
    return memberships.exclude(pk__in=refused)


def access_provider(actor: Membership) -> IdentityProvider | None:
    """The actor's workspace's provider (permission: the security settings)."""
    require(actor, Permission.ADMIN_SECURITY)
    return provider_of(actor.workspace_id)
