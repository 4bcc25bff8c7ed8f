"""Writes for routing: agents' routing profiles and presence, team policies, rules, and routing itself.

Callers own the transaction. `do_route` is the one place that assigns automatically: it picks the team
(the conversation's, else the first matching rule's open team), walks the team's overflow chain, and
assigns through `do_update_conversation(None, ...)`, or queues or escalates, always recording a
RoutingDecision with its reason.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.channels.models import Channel
from threadline.conversations.actions import UNSET, do_update_conversation, record_event
from threadline.conversations.models import ACTIVE_STATUSES, Conversation, Priority
from threadline.core.batch_cache import cached
from threadline.core.errors import ValidationFailed
from threadline.core.prepared import Prepared
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.routing import engine
from threadline.routing.events import RoutingEscalated
from threadline.routing.models import (
    DEFAULT_CAPACITY,
    AgentProfile,
    Policy,
    Presence,
    PresenceInterval,
    RoutingDecision,
    RoutingRule,
    TeamPolicy,
    capacity_class,
    channel_kind_of,
)
from threadline.sla import businesshours
from threadline.sla.models import BusinessSchedule
from threadline.tenancy.models import Membership, Team, Workspace
from threadline.tenancy.permissions import Permission, holders_q

MAX_CHAIN = 10
RULE_CONDITIONS = {"languages", "channel_kinds", "priorities", "brand_ids"}


# ── profiles and presence ────────────────────────────────────────────────────────────────────────────
def profile_of(membership: Membership) -> AgentProfile:
    """The agent's routing profile, created with defaults on first use."""
    profile, _created = AgentProfile.objects.get_or_create(
        membership=membership, defaults={"workspace_id": membership.workspace_id})
    return profile


def check_labels(values: list[str], field: str) -> list[str]:
    clean = sorted({str(v).strip().lower()[:64] for v in values if str(v).strip()})
    if len(clean) > 100:
        raise ValidationFailed(_("Too many values."), code="too_many", field=field)
    return clean


def check_capacity(capacity: dict[str, int]) -> dict[str, int]:
    clean = {}
    for klass, n in capacity.items():
        if klass not in ("chat", "email"):
            raise ValidationFailed(_("Capacity is per chat or email."), code="invalid_capacity", field="capacity")
        if not isinstance(n, int) or not 0 <= n <= 1000:
            raise ValidationFailed(_("Capacity is a number from 0 to 1000."), code="invalid_capacity",
                                   field="capacity")
        clean[klass] = n
    return clean


def do_update_profile(profile: AgentProfile, *, languages: list[str] | None = None, skills: list[str] | None = None,
                      capacity: dict[str, int] | None = None) -> AgentProfile:
    if languages is not None:
        profile.languages = check_labels(languages, "languages")
    if skills is not None:
        profile.skills = check_labels(skills, "skills")
    if capacity is not None:
        profile.capacity = check_capacity(capacity)
    profile.save()
    record_change("agent.routing_updated", profile, {"membership_id": profile.membership_id,
                                                     "languages": profile.languages, "skills": profile.skills,
                                                     "capacity": profile.capacity})
    return profile


def do_set_presence(profile: AgentProfile, presence: str) -> list[int]:
    """Change presence, recording it as a PresenceInterval (the open one ends now, the new one starts now).
    Going offline hands the agent's open chats to someone else (emails stay).

    Returns the ids of the conversations that were re-routed.
    """
    if presence not in Presence.values:
        raise ValidationFailed(_("Unknown presence %(p)s.") % {"p": presence}, code="invalid_presence",
                               field="presence")
    if profile.presence == presence:
        return []
    moment = now()
    profile.presence, profile.presence_changed_at = presence, moment
    profile.save(update_fields=["presence", "presence_changed_at", "updated_at"])
    PresenceInterval.objects.filter(membership_id=profile.membership_id, ended_at__isnull=True).update(
        ended_at=moment, updated_at=moment)
    PresenceInterval.objects.create(workspace_id=profile.workspace_id, membership_id=profile.membership_id,
                                    status=presence, started_at=moment)
    moved: list[int] = []
    if presence == Presence.OFFLINE:
        open_chats = (Conversation.objects.filter(assignee_id=profile.membership_id, status__in=ACTIVE_STATUSES)
                      .select_related("origin_channel", "last_inbound_channel", "team").order_by("id"))
        for conversation in open_chats:
            if capacity_class(channel_kind_of(conversation)) == "chat":
                do_reassign(conversation, reason="agent_offline")
                moved.append(conversation.pk)
    return moved


def do_take_default_presence(membership: Membership) -> bool:
    """An agent who never picked a status is online for routing once they open the workspace, as the
    workspace shows them (a connected agent's status defaults to online); an explicit choice is kept."""
    profile = profile_of(membership)
    if profile.presence_changed_at is not None or profile.presence == Presence.ONLINE:
        return False
    do_set_presence(profile, Presence.ONLINE)
    return True


# ── team policies and rules ──────────────────────────────────────────────────────────────────────────
def policy_of(team: Team) -> TeamPolicy:
    policy, _created = TeamPolicy.objects.get_or_create(team=team, defaults={"workspace_id": team.workspace_id})
    return policy


def _team_in(workspace_id: int, team_id: int | None, field: str) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(workspace_id=workspace_id, pk=team_id).first()
    if team is None:
        raise ValidationFailed(_("No such team."), code="invalid_team", field=field)
    return team


def do_update_team_policy(policy: TeamPolicy, fields: dict[str, Any]) -> TeamPolicy:
    """Change a team's policy; only the keys present in `fields` change."""
    workspace_id = policy.workspace_id
    before = _policy_state(policy)
    if "policy" in fields:
        if fields["policy"] not in Policy.values:
            raise ValidationFailed(_("Unknown policy."), code="invalid_policy", field="policy")
        policy.policy = fields["policy"]
    if "schedule_id" in fields:
        schedule_id = fields["schedule_id"]
        policy.schedule = None
        if schedule_id is not None:
            policy.schedule = BusinessSchedule.objects.filter(workspace_id=workspace_id, pk=schedule_id).first()
            if policy.schedule is None:
                raise ValidationFailed(_("No such schedule."), code="invalid_schedule", field="schedule_id")
    for key in ("overflow_team", "escalation_team"):
        if f"{key}_id" in fields:
            team = _team_in(workspace_id, fields[f"{key}_id"], f"{key}_id")
            if team is not None and team.pk == policy.team_id:
                raise ValidationFailed(_("A team cannot overflow to itself."), code="invalid_team", field=f"{key}_id")
            setattr(policy, key, team)
    if "required_skills" in fields:
        policy.required_skills = check_labels(fields["required_skills"], "required_skills")
    policy.save()
    after = _policy_state(policy)
    if after != before:
        record_change("team.policy_updated", policy, {"team_id": policy.team_id,
                                                      **{k: v for k, v in after.items() if before.get(k) != v}})
    return policy


def _policy_state(policy: TeamPolicy) -> dict[str, Any]:
    return {"policy": policy.policy, "schedule_id": policy.schedule_id, "overflow_team_id": policy.overflow_team_id,
            "escalation_team_id": policy.escalation_team_id, "required_skills": list(policy.required_skills or [])}


def check_rule(workspace: Workspace, name: str, conditions: dict[str, list[Any]], team_ids: list[int]) -> None:
    if not (name or "").strip():
        raise ValidationFailed(_("A rule needs a name."), code="invalid_name", field="name")
    unknown = set(conditions) - RULE_CONDITIONS
    if unknown:
        raise ValidationFailed(_("Unknown condition %(c)s.") % {"c": ", ".join(sorted(unknown))},
                               code="invalid_condition", field="conditions")
    if not team_ids:
        raise ValidationFailed(_("A rule needs at least one team."), code="invalid_team", field="team_ids")
    found = Team.objects.filter(workspace=workspace, pk__in=team_ids).count()
    if found != len(set(team_ids)):
        raise ValidationFailed(_("No such team."), code="invalid_team", field="team_ids")


def do_save_rule(workspace: Workspace, rule: RoutingRule | None, *, name: str, position: int = 0,
                 is_active: bool = True, conditions: dict[str, list[Any]] | None = None,
                 team_ids: list[int] | None = None) -> RoutingRule:
    conditions, team_ids = conditions or {}, list(dict.fromkeys(team_ids or []))
    check_rule(workspace, name, conditions, team_ids)
    created = rule is None
    rule = rule or RoutingRule(workspace=workspace)
    rule.name, rule.position, rule.is_active = name.strip()[:200], position, is_active
    rule.conditions, rule.team_ids = conditions, team_ids
    rule.save()
    record_change("routing_rule.created" if created else "routing_rule.updated", rule,
                  {"name": rule.name, "position": position, "active": is_active, "conditions": conditions,
                   "team_ids": team_ids})
    return rule


def do_move_rule(rule: RoutingRule, step: int) -> RoutingRule:
    """Move a rule `step` places earlier (negative) or later (positive) in the order rules are tried; every
    rule of the workspace is renumbered 10, 20, 30, … so positions stay distinct."""
    ordered = list(RoutingRule.objects.filter(workspace_id=rule.workspace_id).order_by("position", "id"))
    index = next(i for i, r in enumerate(ordered) if r.pk == rule.pk)
    target = max(0, min(len(ordered) - 1, index + step))
    ordered.insert(target, ordered.pop(index))
    for n, item in enumerate(ordered, start=1):
        if item.position != n * 10:
            RoutingRule.objects.filter(pk=item.pk).update(position=n * 10, updated_at=now())
    rule.position = (target + 1) * 10
    record_change("routing_rule.moved", rule, {"from": index + 1, "to": target + 1})
    return rule


# ── routing ──────────────────────────────────────────────────────────────────────────────────────────
def rule_matches(rule: RoutingRule, conversation: Conversation, channel_kind: str) -> bool:
    c = rule.conditions
    return ((not c.get("languages") or conversation.language in c["languages"])
            and (not c.get("channel_kinds") or channel_kind in c["channel_kinds"])
            and (not c.get("priorities") or conversation.priority in c["priorities"])
            and (not c.get("brand_ids") or conversation.brand_id in c["brand_ids"]))


def team_is_open(policy: TeamPolicy | None, at: Any) -> bool:
    if policy is None or policy.schedule is None:
        return True
    return businesshours.is_open(policy.schedule.calendar(), at)


_TEAM_POLICIES = Prepared(lambda workspace_id: TeamPolicy.objects.filter(workspace_id=workspace_id)
                          .select_related("schedule"))
_ACTIVE_RULES = Prepared(lambda workspace_id: RoutingRule.objects.filter(workspace_id=workspace_id, is_active=True))


def policies_by_team(workspace_id: int) -> dict[int, TeamPolicy]:
    """The teams' policies, read once per batch: `do_route` reads each round-robin cursor again, locked."""
    return cached(("routing.team_policies", workspace_id), lambda: {
        p.team_id: p for p in _TEAM_POLICIES.all(workspace_id)})


def target_team(conversation: Conversation, channel_kind: str, policies: dict[int, TeamPolicy]) -> tuple[
        Team | None, dict[str, Any]]:
    """The conversation's team, else the first matching rule's first open team ("follow the sun")."""
    if conversation.team_id:
        return conversation.team, {"team_from": "conversation"}
    moment = now()
    rules = cached(("routing.rules", conversation.workspace_id), lambda: _ACTIVE_RULES.all(conversation.workspace_id))
    for rule in rules:
        if not rule_matches(rule, conversation, channel_kind):
            continue
        teams = {t.pk: t for t in Team.objects.filter(workspace_id=conversation.workspace_id, pk__in=rule.team_ids)}
        ordered = [teams[i] for i in rule.team_ids if i in teams]
        for team in ordered:
            if team_is_open(policies.get(team.pk), moment):
                return team, {"team_from": "rule", "rule_id": rule.pk, "open": True}
        if ordered:
            return ordered[0], {"team_from": "rule", "rule_id": rule.pk, "open": False}
    return None, {"team_from": "none"}


_PROFILE_CACHE: dict[int, tuple[Any, frozenset[str], frozenset[str], dict[str, int]]] = {}
PROFILE_CACHE_MAX = 50_000


def _static_profiles(rows: list[tuple[int, Any]]) -> dict[int, tuple[frozenset[str], frozenset[str], dict[str, int]]]:
    """Languages, skills and capacity of these profiles, decoded once per process per profile version.

    A process-local cache checked against each row's `updated_at` on every use, so it is never stale
    and needs no sharing between processes; only profiles changed since are read again.
    """
    stale = [membership_id for membership_id, updated_at in rows
             if _PROFILE_CACHE.get(membership_id, (None,))[0] != updated_at]
    if stale:
        if len(_PROFILE_CACHE) > PROFILE_CACHE_MAX:
            _PROFILE_CACHE.clear()
        fresh = AgentProfile.objects.filter(membership_id__in=stale).values_list(
            "membership_id", "updated_at", "languages", "skills", "capacity")
        for membership_id, updated_at, languages, skills, capacity in fresh:
            _PROFILE_CACHE[membership_id] = (updated_at, frozenset(languages or ()), frozenset(skills or ()),
                                             {**DEFAULT_CAPACITY, **(capacity or {})})
    return {membership_id: _PROFILE_CACHE[membership_id][1:] for membership_id, _u in rows
            if membership_id in _PROFILE_CACHE}


def candidates_for(team: Team, klass: str) -> list[engine.Candidate]:
    """The team's online, active members who may reply (`Permission.REPLY`) with their load in `klass`, in three small queries.

    Load is counted by channel id and mapped to kinds in Python, so the count needs no join.
    """
    rows = list(
        AgentProfile.objects.filter(membership__teams=team, presence=Presence.ONLINE)
        .filter(holders_q(team.workspace_id, Permission.REPLY, prefix="membership__"))
        .values_list("membership_id", "updated_at", "last_assigned_at")
    )
    static = _static_profiles([(row[0], row[1]) for row in rows])
    kinds = dict(Channel.objects.filter(workspace_id=team.workspace_id).values_list("id", "kind"))
    loads: dict[int, int] = {}
    counted = (Conversation.objects.filter(assignee__teams=team, status__in=ACTIVE_STATUSES)
               .values_list("assignee_id", "last_inbound_channel_id", "origin_channel_id")
               .annotate(n=Count("id")).order_by())
    for assignee_id, last_channel, origin_channel, n in counted:
        if capacity_class(kinds.get(last_channel or origin_channel, "")) == klass:
            loads[assignee_id] = loads.get(assignee_id, 0) + n
    found = []
    for membership_id, _updated_at, last_assigned_at in rows:
        if membership_id not in static:
            continue  # deleted in between
        languages, skills, capacity = static[membership_id]
        found.append(engine.Candidate(
            membership_id=membership_id, languages=languages, skills=skills, capacity=int(capacity.get(klass, 0)),
            load=loads.get(membership_id, 0), last_assigned_at=last_assigned_at))
    return found


def _decide(conversation: Conversation, outcome: str, team: Team | None, assignee_id: int | None,
            reason: dict[str, Any]) -> RoutingDecision:
    return RoutingDecision.objects.create(workspace_id=conversation.workspace_id, conversation=conversation,
                                          outcome=outcome, team=team, assignee_id=assignee_id, reason=reason)


def do_route(conversation: Conversation, *, exclude: tuple[int, ...] = (), force: bool = False) -> RoutingDecision | None:
    """Assign an unassigned active conversation, or queue it on a team, or escalate it. Idempotent.

    Walks team → overflow team → … (closed teams are skipped); the first agent the team's policy picks
    gets it. If nobody can, it stays with the first team and is escalated once (the escalation team
    takes it and is told); `route_waiting_task` tries again as capacity frees up.
    """
    if conversation.status not in ACTIVE_STATUSES or conversation.merged_into_id:
        return None
    if conversation.assignee_id and not force:
        return None
    kind = channel_kind_of(conversation)
    klass = capacity_class(kind)
    policies = policies_by_team(conversation.workspace_id)
    start, reason = target_team(conversation, kind, policies)
    if start is None:
        return None
    reason.update(language=conversation.language, capacity_class=klass, tried=[])
    moment = now()
    team: Team | None = start
    seen: set[int] = set()
    while team is not None and team.pk not in seen and len(seen) < MAX_CHAIN:
        seen.add(team.pk)
        policy = policies.get(team.pk)
        if policy is not None:  # one decision per team at a time; the cursor as the previous decision left it
            policy.rr_cursor = (TeamPolicy.objects.select_for_update().filter(pk=policy.pk)
                                .values_list("rr_cursor", flat=True).first() or 0)
        mode = policy.policy if policy else Policy.MANUAL
        step: dict[str, Any] = {"team_id": team.pk, "policy": mode}
        reason["tried"].append(step)
        if not team_is_open(policy, moment):
            step["result"] = "closed"
        elif mode == Policy.MANUAL:
            step["result"] = "manual"
            last = RoutingDecision.objects.filter(conversation=conversation).order_by("-id").first()
            if last is not None and last.outcome == RoutingDecision.Outcome.QUEUED and last.team_id == team.pk:
                return last  # queued there already: nothing new to record
            _assign(conversation, team, None)
            return _decide(conversation, RoutingDecision.Outcome.QUEUED, team, None, reason)
        else:
            pool = engine.eligible(candidates_for(team, klass), required_skills=policy.required_skills,
                                   exclude=exclude)
            chosen, why = engine.choose(mode, pool, language=conversation.language, rr_cursor=policy.rr_cursor)
            step.update(result=why, eligible=len(pool))
            if chosen is not None:
                _assign(conversation, team, chosen.membership_id)
                if mode == Policy.ROUND_ROBIN:
                    TeamPolicy.objects.filter(pk=policy.pk).update(rr_cursor=chosen.membership_id)
                    policy.rr_cursor = chosen.membership_id
                AgentProfile.objects.filter(membership_id=chosen.membership_id).update(last_assigned_at=moment)
                return _decide(conversation, RoutingDecision.Outcome.ASSIGNED, team, chosen.membership_id, reason)
        team = policy.overflow_team if policy else None
    return _escalate(conversation, start, policies.get(start.pk), reason)


def _assign(conversation: Conversation, team: Team, assignee_id: int | None) -> None:
    assignee = Membership.objects.get(pk=assignee_id) if assignee_id else None
    do_update_conversation(None, conversation, team=team, assignee=assignee if assignee_id else UNSET)


def _escalate(conversation: Conversation, start: Team, policy: TeamPolicy | None,
              reason: dict[str, Any]) -> RoutingDecision:
    target = (policy.escalation_team if policy else None) or start
    last = RoutingDecision.objects.filter(conversation=conversation).order_by("-id").first()
    if last is not None and last.outcome == RoutingDecision.Outcome.ESCALATED:
        return last  # escalated and told once already; retries stay silent until someone can take it
    decision = _decide(conversation, RoutingDecision.Outcome.ESCALATED, target, None, reason)
    raise_to = Priority.HIGH if conversation.priority in (Priority.LOW, Priority.NORMAL) else None
    do_update_conversation(None, conversation, team=target, priority=raise_to)
    record_event(conversation, "routing_escalated", team_id=target.pk, tried=reason["tried"])
    recipients = sorted(target.members.filter(is_active=True).values_list("id", flat=True))
    publish(RoutingEscalated(workspace_id=conversation.workspace_id, conversation_id=conversation.pk,
                             team_id=target.pk, recipient_ids=recipients))
    return decision


def do_reassign(conversation: Conversation, *, reason: str) -> RoutingDecision | None:
    """Take the conversation from its assignee and route it to someone else (never back to them)."""
    previous = conversation.assignee_id
    if previous is None:
        return do_route(conversation)
    do_update_conversation(None, conversation, assignee=None)
    record_event(conversation, "reassigning", reason=reason, previous_assignee_id=previous)
    return do_route(conversation, exclude=(previous,))


def do_hand_back(membership_id: int) -> list[int]:
    """A deactivated agent's active conversations go back to routing (each to someone else, or its team's
    queue); idempotent, and nothing moves if the seat was reactivated meanwhile. Returns the moved ids."""
    if Membership.objects.filter(pk=membership_id, is_active=True).exists():
        return []
    moved = []
    for conversation in (Conversation.objects.select_for_update(of=("self",))
                         .filter(assignee_id=membership_id, status__in=ACTIVE_STATUSES)
                         .select_related("team", "origin_channel", "last_inbound_channel").order_by("id")):
        do_reassign(conversation, reason="agent_deactivated")
        moved.append(conversation.pk)
    return moved


def waiting_conversations(workspace_id: int) -> QuerySet[Conversation]:
    """Unassigned active conversations of teams that assign automatically, oldest first."""
    automatic = TeamPolicy.objects.filter(workspace_id=workspace_id).exclude(policy=Policy.MANUAL).values("team_id")
    return (Conversation.objects.filter(workspace_id=workspace_id, status__in=ACTIVE_STATUSES, assignee__isnull=True,
                                        merged_into__isnull=True, team_id__in=automatic)
            .select_related("team", "origin_channel", "last_inbound_channel").order_by("created_at", "id"))


def do_delete_rule(rule: RoutingRule) -> None:
    """An admin deletes a routing rule. The caller holds the transaction and has checked the actor is an admin."""
    record_change("routing_rule.deleted", rule, {"name": rule.name})
    rule.delete()
