"""/api/v1/agents/invitations and the sign-in operations on an agent: inviting by email (with role, teams,
skills and capacity), listing, re-sending and revoking invitations, forcing a password reset and resetting
the second factor. Every endpoint needs `Permission.ADMIN_PEOPLE`; ids of another workspace answer 404.

An invitation is mailed after commit (THREADLINE_SYSTEM_MAIL_URL); when it cannot be, the answer carries the
one-time `url` to pass on, once.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import PageQuery, page, paginate
from threadline.core.errors import Conflict
from threadline.core.schemas import Id
from threadline.routing.seats import do_invite_agent
from threadline.tenancy.invitations import do_resend_invitation, do_revoke_invitation
from threadline.tenancy.mails import invitation_url, send_invitation
from threadline.tenancy.models import Invitation, Membership
from threadline.tenancy.passwords import do_force_reset, do_reset_second_factor
from threadline.tenancy.permissions import Permission, require
from threadline.tenancy.queries import access_agent, access_invitation, list_invitations, teams_by_ids
from threadline.tenancy.schemas import InvitationCreated, InvitationIn, InvitationPage

router = Router(tags=["agents"])


def _admin(request: HttpRequest) -> Membership:
    agent = actor(request)
    require(agent, Permission.ADMIN_PEOPLE)
    return agent


def _created(invitation: Invitation, raw: str) -> Invitation:
    """Mail the invitation (after commit); the answer carries its link only when it could not be mailed."""
    mailed = send_invitation(invitation, raw)
    invitation.refresh_from_db()
    invitation.url = None if mailed else invitation_url(raw)  # type: ignore[attr-defined]  # InvitationCreated.url
    return invitation


@router.post("/invitations", response=responses(InvitationCreated, 201), summary="Invite a person by email")
def invite(request: HttpRequest, payload: InvitationIn) -> Status[Any]:
    """Creates the seat (inactive until the link is used) and mails a one-time link valid 7 days. A person who
    already works in another workspace only accepts: their name and password are never changed."""
    agent = _admin(request)
    with transaction.atomic():
        invitation, raw = do_invite_agent(agent.workspace, payload.email, invited_by=agent, name=payload.name,
                                          role=payload.role.value,
                                          teams=teams_by_ids(agent, payload.team_ids), skills=payload.skills,
                                          capacity=dict(payload.capacity) if payload.capacity is not None else None)
    return Status(201, _created(invitation, raw))


@router.get("/invitations", response=responses(InvitationPage), summary="List invitations")
def invitations(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    rows, cursor = paginate(list_invitations(_admin(request)), cursor=paging.cursor, limit=paging.limit,
                            descending=False)
    return page(rows, cursor)


@router.post("/invitations/{invitation_id}/resend", response=responses(InvitationCreated),
             summary="Re-send an invitation (a new link; the old one stops working)")
def resend(request: HttpRequest, invitation_id: Id) -> Invitation:
    agent = _admin(request)
    with transaction.atomic():
        invitation = access_invitation(agent, invitation_id)
        raw = do_resend_invitation(invitation)
    return _created(invitation, raw)


@router.delete("/invitations/{invitation_id}", response=responses(None, 204), summary="Revoke an invitation")
def revoke(request: HttpRequest, invitation_id: Id) -> Status[None]:
    """The link stops working and the unused seat is removed."""
    agent = _admin(request)
    with transaction.atomic():
        do_revoke_invitation(access_invitation(agent, invitation_id))
    return Status(204, None)


@router.post("/{agent_id}/password-reset", response=responses(None, 204), summary="Force a password reset")
def force_reset(request: HttpRequest, agent_id: Id) -> Status[None]:
    """Ends every session of the person; their next sign-in must choose a new password. 409 `shared_person`
    for someone who also works in another workspace."""
    agent = _admin(request)
    with transaction.atomic():
        target = access_agent(agent, agent_id)
        if not target.is_active:
            raise Conflict(_("This person is not active here."), code="agent_inactive")
        do_force_reset(target)
    return Status(204, None)


@router.delete("/{agent_id}/second-factor", response=responses(None, 204), summary="Reset two-factor sign-in")
def reset_second_factor(request: HttpRequest, agent_id: Id) -> Status[None]:
    """Removes the person's authenticator and ends their sessions (a lost phone). 409 `shared_person` for
    someone who also works in another workspace."""
    agent = _admin(request)
    with transaction.atomic():
        target = access_agent(agent, agent_id)
        if not target.is_active:
            raise Conflict(_("This person is not active here."), code="agent_inactive")
        do_reset_second_factor(target)
    return Status(204, None)
