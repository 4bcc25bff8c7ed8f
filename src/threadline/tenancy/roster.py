"""Admin writes on the roster that `actions.py` lacks: renaming and deleting teams, and the rule that a
workspace always keeps an active member holding every permission. Callers own the transaction and check the
actor's permission."""

from __future__ import annotations

from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.core.errors import Conflict, ValidationFailed
from threadline.events.bus import publish
from threadline.tenancy.events import TeamChanged, TeamDeleted
from threadline.tenancy.models import CustomRole, Membership, Team
from threadline.tenancy.permissions import ALL, grants_of, holders, permissions_of


def check_keeps_an_admin(actor: Membership, agent: Membership, *, role: str | CustomRole | None,
                         is_active: bool | None) -> None:
    """Refuse a change of `agent`'s role (a built-in role's name or a custom role) or seat that would lock the
    workspace out: members taking permissions away from themselves, or the last active member holding every
    permission (an admin, or a custom role granting everything) losing that."""
    before = permissions_of(agent)
    active = agent.is_active if is_active is None else is_active
    after = (permissions_of(agent) if role is None else grants_of(role)) if active else frozenset()
    if before <= after:
        return
    if agent.pk == actor.pk:
        raise Conflict(_("You cannot deactivate or demote yourself; ask another admin."), code="self_lockout")
    if before >= ALL and not holders(agent.workspace_id, *ALL).exclude(pk=agent.pk).exists():
        raise Conflict(_("A workspace needs at least one active admin."), code="last_admin")


def do_rename_team(team: Team, name: str) -> Team:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A team needs a name."), field="name")
    if name == team.name:
        return team
    if Team.objects.filter(workspace_id=team.workspace_id, name=name).exclude(pk=team.pk).exists():
        raise Conflict(_("A team with this name exists already."), code="team_exists")
    old, team.name = team.name, name[:200]
    team.save(update_fields=["name", "updated_at"])
    record_change("team.renamed", team, {"old": old, "new": team.name})
    publish(TeamChanged(workspace_id=team.workspace_id, team_id=team.pk, name=team.name,
                        member_ids=sorted(team.members.values_list("id", flat=True))))
    return team


def do_delete_team(team: Team) -> None:
    """Delete a team; its conversations keep their assignee and lose the team, each with a timeline row
    (so `updated_since` syncs and the timeline see it)."""
    from threadline.conversations.actions import do_update_conversation
    from threadline.conversations.models import Conversation

    moved = []
    for conversation in Conversation.objects.filter(team=team).select_related("workspace"):
        do_update_conversation(None, conversation, team=None)
        moved.append(conversation.pk)
    publish(TeamDeleted(workspace_id=team.workspace_id, team_id=team.pk, name=team.name, conversation_ids=moved))
    record_change("team.deleted", team, {"name": team.name, "conversation_ids": moved})
    team.delete()


def do_set_agent_teams(membership: Membership, teams: list[Team]) -> list[int]:
    """Make `teams` exactly the agent's teams; each team that changes publishes `team.changed`. Returns the
    ids of the teams that changed."""
    if any(team.workspace_id != membership.workspace_id for team in teams):
        raise ValidationFailed(_("Every team must belong to the agent's workspace."), code="team_not_found",
                               field="team_ids")
    wanted = {team.pk for team in teams}
    current = set(membership.teams.values_list("id", flat=True))
    changed = sorted(wanted ^ current)
    for team in Team.objects.filter(pk__in=changed):
        if team.pk in wanted:
            team.members.add(membership)
        else:
            team.members.remove(membership)
        publish(TeamChanged(workspace_id=team.workspace_id, team_id=team.pk, name=team.name,
                            member_ids=sorted(team.members.values_list("id", flat=True))))
    return changed
