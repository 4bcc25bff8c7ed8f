"""/api/v1/routing: agents' skills, capacity and presence; team policies; routing rules; routing a
conversation and the decisions taken for it.

Admins configure; an agent may change their own presence; full agents may ask to route a conversation.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import PageQuery, page, paginate
from threadline.conversations.queries import access_conversation
from threadline.core.schemas import Id
from threadline.routing.actions import (
    do_delete_rule,
    do_route,
    do_save_rule,
    do_set_presence,
    do_update_profile,
    do_update_team_policy,
    policy_of,
    profile_of,
)
from threadline.routing.queries import access_rule, decisions_of, list_rules
from threadline.routing.schemas import (
    AgentPresenceIn,
    AgentPresenceOut,
    AgentProfileOut,
    AgentProfilePatch,
    RoutingDecisionOut,
    RoutingDecisionPage,
    RoutingRuleIn,
    RoutingRuleOut,
    TeamPolicyOut,
    TeamPolicyPatch,
)
from threadline.tenancy.permissions import Permission, require
from threadline.tenancy.queries import (
    access_agent,
    access_team,
    list_agents,
)

router = Router(tags=["routing"])


@router.get("/agents", response=responses(list[AgentProfileOut]), summary="Every agent's routing profile")
def profiles(request: HttpRequest) -> list[Any]:
    agents = list(list_agents(actor(request))[:2000])
    with transaction.atomic():
        return [profile_of(agent) for agent in agents]


@router.get("/agents/{membership_id}", response=responses(AgentProfileOut), summary="An agent's routing profile")
def profile(request: HttpRequest, membership_id: Id) -> Any:
    agent = access_agent(actor(request), membership_id)
    with transaction.atomic():
        return profile_of(agent)


@router.patch("/agents/{membership_id}", response=responses(AgentProfileOut),
              summary="Set an agent's languages, skills and capacity (admins)")
def update_profile(request: HttpRequest, membership_id: Id, payload: AgentProfilePatch) -> Any:
    me = actor(request)
    require(me, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        found = profile_of(access_agent(me, membership_id))
        return do_update_profile(found, languages=payload.languages, skills=payload.skills,
                                 capacity=payload.capacity)


@router.put("/agents/{membership_id}/presence", response=responses(AgentPresenceOut),
            summary="Set presence (yourself, or any agent as an admin); offline hands open chats to others")
def set_presence(request: HttpRequest, membership_id: Id, payload: AgentPresenceIn) -> dict[str, Any]:
    me = actor(request)
    agent = access_agent(me, membership_id)
    if agent.pk != me.pk:
        require(me, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        moved = do_set_presence(profile_of(agent), payload.presence.value)
    return {"membership_id": agent.pk, "presence": payload.presence, "reassigned_conversation_ids": moved}


def _policy_out(policy: Any) -> dict[str, Any]:
    return {"team_id": policy.team_id, "policy": policy.policy, "schedule_id": policy.schedule_id,
            "overflow_team_id": policy.overflow_team_id, "escalation_team_id": policy.escalation_team_id,
            "required_skills": policy.required_skills}


@router.get("/teams/{team_id}/policy", response=responses(TeamPolicyOut), summary="A team's assignment policy")
def team_policy(request: HttpRequest, team_id: Id) -> dict[str, Any]:
    team = access_team(actor(request), team_id)
    with transaction.atomic():
        return _policy_out(policy_of(team))


@router.patch("/teams/{team_id}/policy", response=responses(TeamPolicyOut),
              summary="Change a team's policy, schedule, overflow and escalation (admins)")
def update_team_policy(request: HttpRequest, team_id: Id, payload: TeamPolicyPatch) -> dict[str, Any]:
    me = actor(request)
    require(me, Permission.ADMIN_ROUTING)
    fields = payload.model_dump(mode="json", include=payload.model_fields_set)
    with transaction.atomic():
        return _policy_out(do_update_team_policy(policy_of(access_team(me, team_id)), fields))


@router.get("/rules", response=responses(list[RoutingRuleOut]), summary="Routing rules, in the order they apply")
def rules(request: HttpRequest) -> Any:
    return list(list_rules(actor(request)).order_by("position", "id")[:500])


@router.post("/rules", response=responses(RoutingRuleOut, 201), summary="Create a routing rule (admins)")
def create_rule(request: HttpRequest, payload: RoutingRuleIn) -> tuple[int, Any]:
    me = actor(request)
    require(me, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        return Status(201, do_save_rule(me.workspace, None, **payload.fields()))


@router.put("/rules/{rule_id}", response=responses(RoutingRuleOut), summary="Replace a routing rule (admins)")
def replace_rule(request: HttpRequest, rule_id: Id, payload: RoutingRuleIn) -> Any:
    me = actor(request)
    require(me, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        return do_save_rule(me.workspace, access_rule(me, rule_id), **payload.fields())


@router.delete("/rules/{rule_id}", response=responses(None, 204), summary="Delete a routing rule (admins)")
def delete_rule(request: HttpRequest, rule_id: Id) -> tuple[int, None]:
    me = actor(request)
    require(me, Permission.ADMIN_ROUTING)
    with transaction.atomic():
        do_delete_rule(access_rule(me, rule_id))
    return Status(204, None)


@router.post("/conversations/{conversation_id}/route", response=responses(RoutingDecisionOut | None),
             summary="Route an unassigned conversation now (answers null when there is nothing to do)")
def route(request: HttpRequest, conversation_id: Id) -> Any:
    me = actor(request)
    require(me, Permission.ASSIGN)
    with transaction.atomic():
        return do_route(access_conversation(me, conversation_id))


@router.get("/conversations/{conversation_id}/decisions", response=responses(RoutingDecisionPage),
            summary="Why the conversation went where it went, oldest first")
def decisions(request: HttpRequest, conversation_id: Id, paging: Query[PageQuery]) -> dict[str, Any]:
    conversation = access_conversation(actor(request), conversation_id)
    rows, cursor = paginate(decisions_of(conversation), cursor=paging.cursor, limit=paging.limit, descending=False)
    return page(rows, cursor)
