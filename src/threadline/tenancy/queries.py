"""Reads for tenancy, and `access_*`: the only permission-checked way to fetch an agent or team."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from threadline.audit.actions import record_token_use
from threadline.core import crypto
from threadline.core.errors import NotFound, ValidationFailed
from threadline.core.prepared import Prepared
from threadline.core.time import now
from threadline.tenancy.actions import do_note_activity
from threadline.tenancy.models import CUSTOM_ROLE, ApiToken, Brand, CustomRole, Invitation, Membership, Team
from threadline.tenancy.permissions import Permission, has_permission

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


# Every API request reads its token: compiled once per thread (core.prepared; issue 11)
_LIVE_TOKEN = Prepared(lambda digest: ApiToken.objects.select_related(
    "membership__user", "membership__workspace", "membership__custom_role").filter(
    digest=digest, revoked_at__isnull=True))


def find_token(raw: str) -> ApiToken | None:
    """The live token for a raw bearer value, or None (unknown, revoked, or its agent deactivated)."""
    token = _LIVE_TOKEN.one(crypto.token_digest(raw))  # the digest is unique
    if token is None or not token.membership.is_active or not token.membership.user.is_active:
        return None
    moment = now()
    # At most one write a minute per token: every API request passes here, and on SQLite a write serializes.
    if token.last_used_at is None or moment - token.last_used_at >= LAST_USED_RESOLUTION:
        record_token_use(token, moment)
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
        do_note_activity(token.membership)
    return token


def list_agents(actor: Membership) -> QuerySet[Membership]:
    return (Membership.objects.filter(workspace_id=actor.workspace_id).select_related("user", "custom_role")
            .order_by("id"))


def _every_id(rows: list[Any], wanted: set[int], message: str, code: str, field: str) -> list[Any]:
    missing = wanted - {row.pk for row in rows}
    if missing:
        raise ValidationFailed(message % {"ids": ", ".join(map(str, sorted(missing)))}, code=code, field=field)
    return rows


def agents_by_ids(actor: Membership, member_ids: list[int]) -> list[Membership]:
    """The actor's workspace's agents with these ids; ValidationFailed naming any id that is not one."""
    wanted = set(member_ids)
    return _every_id(list(list_agents(actor).filter(pk__in=wanted)), wanted, _("No such agent: %(ids)s."),
                     "agent_not_found", "member_ids")


def teams_by_ids(actor: Membership, team_ids: list[int]) -> list[Team]:
    """The actor's workspace's teams with these ids; ValidationFailed naming any id that is not one."""
    wanted = set(team_ids)
    return _every_id(list(list_teams(actor).filter(pk__in=wanted)), wanted, _("No such team: %(ids)s."),
                     "team_not_found", "team_ids")


def access_agent(actor: Membership, membership_id: int) -> Membership:
    agent = list_agents(actor).filter(pk=membership_id).first()
    if agent is None:
        raise NotFound(_("No such agent."), code="agent_not_found")
    return agent


def list_teams(actor: Membership) -> QuerySet[Team]:
    return Team.objects.filter(workspace_id=actor.workspace_id).prefetch_related("members").order_by("id")


def access_team(actor: Membership, team_id: int) -> Team:
    team = list_teams(actor).filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("No such team."), code="team_not_found")
    return team


def list_tokens(actor: Membership) -> QuerySet[ApiToken]:
    """The actor's own API tokens; for a member who may manage the workspace's tokens, every token."""
    tokens = ApiToken.objects.filter(workspace_id=actor.workspace_id).select_related("membership__user")
    if not has_permission(actor, Permission.ADMIN_WORKSPACE):
        tokens = tokens.filter(membership=actor)
    return tokens.order_by("id")


def access_token(actor: Membership, token_id: int) -> ApiToken:
    token = list_tokens(actor).filter(pk=token_id).first()
    if token is None:
        raise NotFound(_("No such token."), code="token_not_found")
    return token


def list_brands(actor: Membership) -> QuerySet[Brand]:
    return Brand.objects.filter(workspace_id=actor.workspace_id).order_by("-is_default", "name", "id")


def access_brand(actor: Membership, brand_id: int) -> Brand:
    brand = list_brands(actor).filter(pk=brand_id).first()
    if brand is None:
        raise NotFound(_("No such brand."), code="brand_not_found")
    return brand


def list_people(actor: Membership) -> QuerySet[Membership]:
    """Every seat of the actor's workspace (active, invited, deactivated) with `invitation_pending` annotated."""
    pending = Invitation.objects.filter(membership=OuterRef("pk"), accepted_at__isnull=True, revoked_at__isnull=True)
    return list_agents(actor).annotate(invitation_pending=Exists(pending)).prefetch_related("teams")


def person_status(membership: Membership) -> str:
    """`active`, `invited` (a pending invitation, not yet used) or `deactivated`."""
    if membership.is_active:
        return "active"
    pending = getattr(membership, "invitation_pending", None)
    if pending is None:
        pending = Invitation.objects.filter(membership=membership, accepted_at__isnull=True,
                                            revoked_at__isnull=True).exists()
    return "invited" if pending else "deactivated"


def list_invitations(actor: Membership) -> QuerySet[Invitation]:
    return (Invitation.objects.filter(workspace_id=actor.workspace_id)
            .select_related("membership__user", "invited_by__user").order_by("id"))


def access_invitation(actor: Membership, invitation_id: int) -> Invitation:
    invitation = list_invitations(actor).filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound(_("No such invitation."), code="invitation_not_found")
    return invitation


def list_roles(actor: Membership) -> QuerySet[CustomRole]:
    """The workspace's custom roles, each with `member_count` (every member holding it, active or not)."""
    return (CustomRole.objects.filter(workspace_id=actor.workspace_id)
            .annotate(member_count=Count("members")).order_by("name", "id"))


def access_role(actor: Membership, role_id: int) -> CustomRole:
    role = list_roles(actor).filter(pk=role_id).first()
    if role is None:
        raise NotFound(_("No such role."), code="role_not_found")
    return role


def built_in_member_counts(actor: Membership) -> dict[str, int]:
    """How many members (active or not) hold each built-in role."""
    rows = (Membership.objects.filter(workspace_id=actor.workspace_id, custom_role__isnull=True)
            .values("role").annotate(n=Count("id")).order_by())
    return {row["role"]: row["n"] for row in rows}


def role_by_key(actor: Membership, key: str | None) -> str | CustomRole | None:
    """A role as a form names it (`Membership.role_key`): a built-in role's name (checked by the action), a custom
    role of the actor's workspace (`custom:<id>`, NotFound otherwise), or None for an empty value."""
    key = (key or "").strip()
    if not key.startswith(f"{CUSTOM_ROLE}:"):
        return key or None
    number = key.partition(":")[2]
    if not number.isdigit() or len(number) > 18:
        raise NotFound(_("No such role."), code="role_not_found")
    return access_role(actor, int(number))
