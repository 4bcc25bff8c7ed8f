"""A person's seat together with its routing attributes, as the people screen, the API and the CLI change it:
an invitation with skills and capacity per channel class, and one change of role, teams, skills, capacity or
activity. Routing owns the profile, tenancy the seat; callers own the transaction and check the actor may
manage people (`Permission.ADMIN_PEOPLE`).

Deactivating publishes `agent.updated`; this package's subscriber then hands the person's active
conversations back to routing (`do_hand_back`), and the real-time layer closes their sockets.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.core.errors import Conflict
from threadline.routing.actions import do_update_profile, profile_of
from threadline.tenancy.actions import do_update_agent
from threadline.tenancy.invitations import do_invite, pending_invitation
from threadline.tenancy.models import CustomRole, Invitation, Membership, Team, Workspace
from threadline.tenancy.roles import check_assignment
from threadline.tenancy.roster import do_set_agent_teams


def do_update_routing(membership: Membership, *, skills: list[str] | None = None,
                      capacity: dict[str, int] | None = None) -> None:
    if skills is None and capacity is None:
        return
    profile = do_update_profile(profile_of(membership), skills=skills, capacity=capacity)
    changes: dict[str, Any] = {}
    if skills is not None:
        changes["skills"] = profile.skills
    if capacity is not None:
        changes["capacity"] = profile.capacity
    record_change("agent.routing_updated", membership, changes)


def do_invite_agent(workspace: Workspace, email: str, *, invited_by: Membership | None, name: str = "",
                    role: str | CustomRole,
                    teams: list[Team] | None = None, skills: list[str] | None = None,
                    capacity: dict[str, int] | None = None) -> tuple[Invitation, str]:
    invitation, raw = do_invite(workspace, email, invited_by=invited_by, name=name, role=role, teams=teams)
    assert invitation.membership is not None
    do_update_routing(invitation.membership, skills=skills, capacity=capacity)
    return invitation, raw


def do_update_seat(actor: Membership, membership: Membership, *, role: str | CustomRole | None = None,
                   is_active: bool | None = None, teams: list[Team] | None = None,
                   skills: list[str] | None = None, capacity: dict[str, int] | None = None) -> Membership:
    if is_active and not membership.is_active and pending_invitation(membership) is not None:
        raise Conflict(_("This person has not used their invitation yet; re-send it instead."),
                       code="invitation_pending")
    check_assignment(actor, membership, role, is_active)
    do_update_agent(membership, role=role, is_active=is_active, actor=actor)
    if teams is not None and do_set_agent_teams(membership, teams):
        record_change("agent.teams_changed", membership, {"team_ids": sorted(t.pk for t in teams)})
    do_update_routing(membership, skills=skills, capacity=capacity)
    return membership
