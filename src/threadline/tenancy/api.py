"""/api/v1/agents and /api/v1/teams: every member may read them; members who manage people add agents and give
them roles, members who manage routing change teams. /api/v1/tokens: a member lists and revokes their own API
tokens, a member who manages the workspace every token of the workspace."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import PageQuery, page, paginate
from threadline.core.errors import ValidationFailed
from threadline.core.schemas import Id
from threadline.routing.seats import do_update_seat
from threadline.tenancy.actions import (
    do_add_agent,
    do_create_team,
    do_revoke_api_token,
    do_set_team_members,
    do_update_agent,
)
from threadline.tenancy.invitations import do_invite, has_an_account
from threadline.tenancy.mails import invitation_url, send_invitation
from threadline.tenancy.models import CustomRole, Membership
from threadline.tenancy.permissions import Permission, grants_of, require
from threadline.tenancy.queries import (
    access_agent,
    access_role,
    access_team,
    access_token,
    agents_by_ids,
    list_people,
    list_teams,
    list_tokens,
)
from threadline.tenancy.roles import check_assignment, check_may_grant
from threadline.tenancy.roster import do_delete_team, do_rename_team
from threadline.tenancy.schemas import (
    AgentIn,
    AgentOut,
    AgentPage,
    AgentPatch,
    AgentRoleIn,
    TeamIn,
    TeamOut,
    TeamPage,
    TeamPatch,
    TokenPage,
)

agents_router = Router(tags=["agents"])
teams_router = Router(tags=["teams"])
tokens_router = Router(tags=["tokens"])


# ── agents ───────────────────────────────────────────────────────────────────────────────────────────
@agents_router.get("", response=responses(AgentPage), summary="List agents")
def agents(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    rows, cursor = paginate(list_people(actor(request)), cursor=paging.cursor,
                            limit=paging.limit, descending=False)
    return page(rows, cursor)


@agents_router.post("", response=responses(AgentOut, 201), summary="Add an agent (admins)")
def create_agent(request: HttpRequest, payload: AgentIn) -> Status[Any]:
    """Gives a new person an active seat at once (no password until they use "Forgot your password?" on the
    sign-in page). A person who already has an account (a password, or a seat in another workspace) is invited
    instead: the seat waits (`status: invited`) until they accept the mailed link, and their name is not
    changed; `invitation_url` carries the link when it could not be mailed. `POST /agents/invitations` always
    invites."""
    agent = actor(request)
    require(agent, Permission.ADMIN_PEOPLE)
    with transaction.atomic():
        chosen = chosen_role(agent, payload.role if payload.role_id is None else None, payload.role_id)
        check_may_grant(agent, grants_of(chosen))
        if has_an_account(payload.email, agent.workspace_id):
            invitation, raw = do_invite(agent.workspace, payload.email, invited_by=agent, role=chosen)
            created = invitation.membership
        else:
            invitation, created = None, do_add_agent(
                agent.workspace, payload.email, role=chosen if isinstance(chosen, str) else "agent",
                custom_role=chosen if isinstance(chosen, CustomRole) else None, name=payload.name)
    answer = access_agent(agent, created.pk)
    if invitation is not None and not send_invitation(invitation, raw):
        answer.invitation_url = invitation_url(raw)  # type: ignore[attr-defined]  # AgentOut.invitation_url
    return Status(201, answer)


@agents_router.get("/{agent_id}", response=responses(AgentOut), summary="Get an agent")
def agent_detail(request: HttpRequest, agent_id: Id) -> Membership:
    return access_agent(actor(request), agent_id)


@agents_router.patch("/{agent_id}", response=responses(AgentOut), summary="Change role, active or name (admins)")
def update_agent(request: HttpRequest, agent_id: Id, payload: AgentPatch) -> Membership:
    """Deactivating (`is_active: false`) signs the agent out and hands their open conversations back to
    routing; an invited person is activated by their invitation, not here (409 `invitation_pending`)."""
    agent = actor(request)
    require(agent, Permission.ADMIN_PEOPLE)
    with transaction.atomic():
        target = access_agent(agent, agent_id)
        role = chosen_role(agent, payload.role, payload.role_id)
        do_update_seat(agent, target, role=role, is_active=payload.is_active)
        if payload.name is not None:
            do_update_agent(target, name=payload.name, actor=agent)
    return access_agent(agent, agent_id)


@agents_router.put("/{agent_id}/role", response=responses(AgentOut),
                   summary="Give an agent a role: a built-in one or a custom one (members who manage people)")
def assign_role(request: HttpRequest, agent_id: Id, payload: AgentRoleIn) -> Membership:
    """Nobody grants more than their own role holds, and the workspace always keeps an active member holding
    every permission (409 `last_admin`); demoting yourself is refused (409 `self_lockout`)."""
    agent = actor(request)
    require(agent, Permission.ADMIN_PEOPLE)
    with transaction.atomic():
        target = access_agent(agent, agent_id)
        role = chosen_role(agent, payload.role, payload.role_id)
        if role is None:
            raise ValidationFailed(_("Give `role` or `role_id`."), code="role_required", field="role")
        check_assignment(agent, target, role)
        do_update_agent(target, role=role, actor=agent)
    return access_agent(agent, agent_id)


def chosen_role(agent: Membership, role: str | None, role_id: int | None) -> str | CustomRole | None:
    """A built-in role's name, a custom role of the agent's workspace (404 otherwise), or None."""
    if role is not None and role_id is not None:
        raise ValidationFailed(_("Give either `role` or `role_id`, not both."), code="role_ambiguous", field="role")
    return access_role(agent, role_id) if role_id is not None else role


# ── teams ────────────────────────────────────────────────────────────────────────────────────────────
def _members(agent: Membership, member_ids: list[int]) -> list[Membership]:
    return agents_by_ids(agent, member_ids)


@teams_router.get("", response=responses(TeamPage), summary="List teams")
def teams(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    rows, cursor = paginate(list_teams(actor(request)), cursor=paging.cursor, limit=paging.limit,
                            descending=False)
    return page(rows, cursor)


@teams_router.post("", response=responses(TeamOut, 201), summary="Create a team (admins)")
def create_team(request: HttpRequest, payload: TeamIn) -> Status[Any]:
    agent = actor(request)
    require(agent, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        team = do_create_team(agent.workspace, payload.name, _members(agent, payload.member_ids))
    return Status(201, access_team(agent, team.pk))


@teams_router.get("/{team_id}", response=responses(TeamOut), summary="Get a team")
def team_detail(request: HttpRequest, team_id: Id) -> Any:
    return access_team(actor(request), team_id)


@teams_router.patch("/{team_id}", response=responses(TeamOut), summary="Rename a team or set its members (admins)")
def update_team(request: HttpRequest, team_id: Id, payload: TeamPatch) -> Any:
    agent = actor(request)
    require(agent, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        team = access_team(agent, team_id)
        if payload.name is not None:
            do_rename_team(team, payload.name)
        if payload.member_ids is not None:
            do_set_team_members(team, _members(agent, payload.member_ids))
    return access_team(agent, team_id)


@teams_router.delete("/{team_id}", response=responses(None, 204), summary="Delete a team (admins)")
def delete_team(request: HttpRequest, team_id: Id) -> Status[None]:
    agent = actor(request)
    require(agent, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        do_delete_team(access_team(agent, team_id))
    return Status(204, None)


# ── API tokens ───────────────────────────────────────────────────────────────────────────────────────
@tokens_router.get("", response=responses(TokenPage), summary="List API tokens (yours; an admin's: the workspace's)")
def tokens(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    rows, cursor = paginate(list_tokens(actor(request)), cursor=paging.cursor, limit=paging.limit,
                            descending=False)
    return page(rows, cursor)


@tokens_router.delete("/{token_id}", response=responses(None, 204), summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: Id) -> Status[None]:
    """The token stops working at once; revoking a revoked token changes nothing."""
    with transaction.atomic():
        token = access_token(actor(request), token_id)
        if token.revoked_at is None:
            do_revoke_api_token(token)
    return Status(204, None)
