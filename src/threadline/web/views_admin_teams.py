"""/app/admin/teams: teams (name, members, how they hand out work), and each agent's skills, languages and
capacity per channel class, through the same actions as /api/v1/teams and /api/v1/routing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from threadline.routing.actions import do_update_profile, do_update_team_policy, policy_of, profile_of
from threadline.routing.models import AgentProfile, Policy, TeamPolicy
from threadline.sla.queries import list_schedules
from threadline.tenancy.actions import do_create_team, do_set_team_members
from threadline.tenancy.models import Team
from threadline.tenancy.permissions import Permission
from threadline.tenancy.queries import access_agent, access_team, agents_by_ids, list_agents, list_teams
from threadline.tenancy.roster import do_delete_team, do_rename_team
from threadline.web.admin_crud import Screen
from threadline.web.admin_inputs import number, optional_number, posted_ids, posted_list
from threadline.web.views_admin import admin_screen

TEMPLATE = "web/admin/teams.html"
URL = "/app/admin/teams"


def _context(request: HttpRequest) -> dict[str, Any]:
    me = request.agent  # type: ignore[attr-defined]
    agents = list(list_agents(me))
    profiles = {p.membership_id: p for p in AgentProfile.objects.filter(workspace_id=me.workspace_id)}
    policies = {p.team_id: p for p in TeamPolicy.objects.filter(workspace_id=me.workspace_id)}
    teams = list(list_teams(me))
    rows = []
    skills: dict[str, list[Any]] = {}
    for agent in agents:
        profile = profiles.get(agent.pk) or AgentProfile(membership=agent, workspace_id=me.workspace_id)
        rows.append({"agent": agent, "profile": profile, "chat": profile.capacity_for("chat"),
                     "email": profile.capacity_for("email")})
        for skill in profile.skills or []:
            skills.setdefault(skill, []).append(agent)
    return {
        "teams": [{"team": t, "policy": policies.get(t.pk), "member_ids": {m.pk for m in t.members.all()}}
                  for t in teams],
        "all_teams": teams, "agents": agents, "select_size": max(2, min(8, len(agents))), "profiles": rows, "skills": sorted(skills.items()),
        "policies": Policy.choices, "schedules": list(list_schedules(me).order_by("name")),
    }


def _policy_fields(request: HttpRequest) -> dict[str, Any]:
    return {"policy": request.POST.get("policy", Policy.MANUAL),
            "schedule_id": optional_number(request, "schedule_id", low=1),
            "overflow_team_id": optional_number(request, "overflow_team_id", low=1),
            "escalation_team_id": optional_number(request, "escalation_team_id", low=1),
            "required_skills": posted_list(request, "required_skills")}


def _save(request: HttpRequest, team: Team | None) -> Team:
    """A new team: its name and members; an existing one: also its assignment policy."""
    me = request.agent  # type: ignore[attr-defined]
    members = agents_by_ids(me, posted_ids(request, "member_ids"))
    if team is None:
        return do_create_team(me.workspace, request.POST.get("name", ""), members)
    do_rename_team(team, request.POST.get("name", ""))
    do_set_team_members(team, members)
    do_update_team_policy(policy_of(team), _policy_fields(request))
    return team


TEAMS = Screen(
    permission=Permission.ADMIN_ROUTING, template=TEMPLATE, url=URL, context=_context, access=access_team,
    save=_save, delete=do_delete_team, created=gettext_lazy("Team created."), saved=gettext_lazy("Team saved."),
    deleted=gettext_lazy("Team deleted."),
)
teams_view, team_update_view, team_delete_view = TEAMS.views()


@require_POST
@admin_screen(Permission.ADMIN_ROUTING)
def agent_routing_view(request: HttpRequest, membership_id: int) -> HttpResponse:
    agent = access_agent(request.agent, membership_id)  # type: ignore[attr-defined]

    def write() -> None:
        capacity = {klass: number(request.POST.get(f"capacity_{klass}", ""), f"capacity_{klass}", low=0, high=1000)
                    for klass in ("chat", "email")}
        do_update_profile(profile_of(agent), skills=posted_list(request, "skills"),
                          languages=posted_list(request, "languages"), capacity=capacity)

    return TEAMS.submit(request, write, _("Skills and capacity saved."))
