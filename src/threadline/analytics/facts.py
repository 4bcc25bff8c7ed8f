"""Computing facts from the source rows: conversations, messages, the timeline, SLA timers and bot outcomes.

One code path for both the refresh of stale conversations (`refresh.py`) and `threadline analytics rebuild`:
a conversation's fact is always recomputed whole from its rows (so applying it twice changes nothing), and a
day's agent and channel facts are recomputed whole from that day's messages and timeline rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q

from threadline.analytics.models import (
    AgentDayFact,
    BotOutcome,
    ChannelDayFact,
    ConversationFact,
    FactChannel,
    FactTag,
)
from threadline.analytics.occupancy import agent_day
from threadline.analytics.stats import nearest_rank
from threadline.conversations.models import (
    ACTIVE_STATUSES,
    AuthorKind,
    Conversation,
    ConversationEvent,
    Direction,
    Message,
)
from threadline.core.time import now
from threadline.sla.businesshours import Calendar, business_time_between
from threadline.sla.models import BusinessSchedule, SlaPolicy, SlaTimer, TimerState

RESOLVED = frozenset({"solved", "closed"})
SIDES = {AuthorKind.CONTACT: "contact", AuthorKind.AGENT: "agent", AuthorKind.BOT: "bot"}
TIMELINE_KINDS = ("status_changed", "reopened", "assigned")
# A row may commit after a refresh that ran while it was being written: its day is recomputed if it is at most
# this much older than the conversation's last computation.
SETTLING = dt.timedelta(hours=1)


def zone_of(workspace_id: int) -> ZoneInfo:
    from threadline.tenancy.models import Workspace

    return ZoneInfo(Workspace.objects.values_list("time_zone", flat=True).get(pk=workspace_id) or "UTC")


def zone_in(zones: dict[int, ZoneInfo], workspace_id: int) -> ZoneInfo:
    """`zone_of(workspace_id)`, read once per `zones` (a caller's cache for one run; not `zones.setdefault`,
    whose argument, a query, would run every time)."""
    if workspace_id not in zones:
        zones[workspace_id] = zone_of(workspace_id)
    return zones[workspace_id]


def local_day(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    return moment.astimezone(zone).date()


def day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)


@dataclass
class Transition:
    """A change of status on the timeline: a resolution (to solved or closed) or a reopening."""

    at: dt.datetime
    resolves: bool
    actor_id: int | None


@dataclass
class Source:
    """What one conversation's fact is computed from."""

    conversation: Conversation
    tags: list[str] = field(default_factory=list)
    messages: list[tuple[dt.datetime, str, str, int | None, int | None]] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    assignees: list[int] = field(default_factory=list)
    timers: list[SlaTimer] = field(default_factory=list)
    bot_outcome: str = ""
    surveys: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_sources(conversation_ids: Iterable[int]) -> dict[int, Source]:
    """The rows of these conversations (merged-away ones are left out: their messages live in the target)."""
    ids = list(conversation_ids)
    sources = {c.pk: Source(c) for c in Conversation.objects.filter(pk__in=ids, merged_into__isnull=True)}
    ids = list(sources)
    for conversation_id, name in Conversation.tags.through.objects.filter(conversation_id__in=ids).values_list(
            "conversation_id", "tag__name"):
        sources[conversation_id].tags.append(name)
    for row in (Message.objects.filter(conversation_id__in=ids, is_note=False)
                .order_by("created_at", "id")
                .values_list("conversation_id", "created_at", "direction", "author_kind", "author_membership_id",
                             "channel_id")):
        sources[row[0]].messages.append(row[1:])
    for conversation_id, at, kind, actor_id, data in (
            ConversationEvent.objects.filter(conversation_id__in=ids, kind__in=TIMELINE_KINDS)
            .order_by("created_at", "id").values_list("conversation_id", "created_at", "kind", "actor_id", "data")):
        source = sources[conversation_id]
        if kind == "assigned":
            if data.get("new"):
                source.assignees.append(int(data["new"]))
        elif kind == "reopened":
            source.transitions.append(Transition(at, False, actor_id))
        else:
            old, new = data.get("old"), data.get("new")
            if new in RESOLVED and old not in RESOLVED:
                source.transitions.append(Transition(at, True, actor_id))
            elif old in RESOLVED and new not in RESOLVED:
                source.transitions.append(Transition(at, False, actor_id))
    for timer in SlaTimer.objects.filter(conversation_id__in=ids).order_by("id"):
        sources[timer.conversation_id].timers.append(timer)
    for conversation_id, outcome in BotOutcome.objects.filter(conversation_id__in=ids).values_list(
            "conversation_id", "outcome"):
        sources[conversation_id].bot_outcome = outcome
    load_surveys(sources)
    for source in sources.values():  # an assignment made at creation leaves no "assigned" row
        if source.conversation.assignee_id and not source.assignees:
            source.assignees.append(source.conversation.assignee_id)
    return sources


def load_surveys(sources: dict[int, Source]) -> None:
    """Per survey kind: the requests actually sent (a request held by quiet hours has `due_at` until it goes;
    a withdrawn one is deleted) and the scores answered, in the order they came."""
    from threadline.surveys.models import SurveyRequest, SurveyResponse

    def kind(conversation_id: int, name: str) -> dict[str, Any]:
        return sources[conversation_id].surveys.setdefault(name, {"sent": 0, "scores": []})

    for conversation_id, name in SurveyRequest.objects.filter(conversation_id__in=list(sources),
                                                              due_at__isnull=True).values_list("conversation_id",
                                                                                               "kind"):
        kind(conversation_id, name)["sent"] += 1
    for conversation_id, name, score in SurveyResponse.objects.filter(conversation_id__in=list(sources)).order_by(
            "responded_at", "id").values_list("conversation_id", "kind", "score"):
        kind(conversation_id, name)["scores"].append(score)


class Calendars:
    """Business calendars for durations: the SLA policy's (as the SLA timers count), else the brand's, else
    24/7 (None). Read once per refresh."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int | None, int | None, int | None], Calendar | None] = {}

    def of(self, conversation: Conversation, policy_id: int | None) -> Calendar | None:
        key = (policy_id, conversation.team_id, conversation.brand_id)
        if key not in self._cache:
            self._cache[key] = self._load(conversation, policy_id)
        return self._cache[key]

    @staticmethod
    def _load(conversation: Conversation, policy_id: int | None) -> Calendar | None:
        from threadline.sla.actions import calendar_for

        policy = SlaPolicy.objects.select_related("schedule").filter(pk=policy_id).first() if policy_id else None
        if policy is not None:
            return calendar_for(policy, conversation)
        schedule = BusinessSchedule.objects.filter(brand_id=conversation.brand_id).first() if (
            conversation.brand_id) else None
        return schedule.calendar() if schedule else None


def _seconds(a: dt.datetime, b: dt.datetime) -> int:
    return int((b - a).total_seconds())


def _sla_outcome(timers: list[SlaTimer], metric: str) -> str:
    timer = next((t for t in reversed(timers) if t.metric == metric), None)
    if timer is None:
        return ""
    if timer.breached_at is not None:
        return "breached"
    if timer.state == TimerState.FULFILLED:
        return "met"
    return "running" if timer.state in (TimerState.RUNNING, TimerState.PAUSED) else ""


def build_fact(source: Source, zone: ZoneInfo, calendars: Calendars, moment: dt.datetime) -> ConversationFact:
    c = source.conversation
    local = c.created_at.astimezone(zone)
    policy_id = source.timers[-1].policy_id if source.timers else None
    calendar = calendars.of(c, policy_id)
    fact = ConversationFact(
        conversation_id=c.pk, workspace_id=c.workspace_id, contact_id=c.contact_id,
        origin_channel_id=c.origin_channel_id, brand_id=c.brand_id, team_id=c.team_id, language=c.language,
        tags=sorted(source.tags), status=c.status, is_active=c.status in ACTIVE_STATUSES,
        created_at=c.created_at, created_day=local.date(),
        created_week=local.date() - dt.timedelta(days=local.weekday()), created_hour=local.hour,
        bot_outcome=source.bot_outcome, sla_policy_id=policy_id, surveys=source.surveys,
        sla_first_response=_sla_outcome(source.timers, "first_response"),
        sla_resolution=_sla_outcome(source.timers, "resolution"), computed_at=moment,
    )
    assignees = source.assignees
    fact.first_assignee_id = assignees[0] if assignees else None
    fact.last_assignee_id = c.assignee_id
    fact.assignee_count = len(set(assignees))
    channels = {channel for *_rest, channel in source.messages if channel is not None}
    if c.origin_channel_id is not None:
        channels.add(c.origin_channel_id)
    fact.channels_used, fact.channel_count = sorted(channels), len(channels)
    counts = {"contact": 0, "agent": 0, "bot": 0}
    waiting_since: dt.datetime | None = None  # a customer turn not answered yet, after the first response
    next_responses: list[int] = []
    for at, direction, kind, author_id, _channel in source.messages:
        side = SIDES.get(kind)
        if side is None:
            continue
        counts[side] += 1
        if direction == Direction.INBOUND:
            if fact.first_response_at is not None and waiting_since is None:
                waiting_since = at
        elif kind == AuthorKind.AGENT:
            if fact.first_response_at is None:
                fact.first_response_at, fact.first_responder_id = at, author_id
                fact.first_response_seconds = _seconds(c.created_at, at)
                fact.first_response_business_seconds = int(
                    business_time_between(calendar, c.created_at, at).total_seconds())
            elif waiting_since is not None:
                next_responses.append(_seconds(waiting_since, at))
                waiting_since = None
    fact.messages_contact, fact.messages_agent, fact.messages_bot = counts["contact"], counts["agent"], counts["bot"]
    fact.next_response_seconds = next_responses
    span_start: dt.datetime | None = c.created_at
    spans: list[int] = []
    for transition in source.transitions:
        if transition.resolves and span_start is not None:
            spans.append(_seconds(span_start, transition.at))
            fact.resolutions += 1
            fact.last_resolved_at, span_start = transition.at, None
            if fact.first_resolved_at is None:
                fact.first_resolved_at = transition.at
        elif not transition.resolves and span_start is None:
            fact.reopens += 1
            span_start = transition.at
    fact.resolution_spans = spans
    if fact.first_resolved_at is not None:
        fact.resolution_seconds = _seconds(c.created_at, fact.first_resolved_at)
        fact.resolution_business_seconds = int(
            business_time_between(calendar, c.created_at, fact.first_resolved_at).total_seconds())
        fact.replies_before_resolution = sum(
            1 for at, direction, kind, *_rest in source.messages
            if kind == AuthorKind.AGENT and direction == Direction.OUTBOUND and at <= fact.first_resolved_at)
    return fact


def open_at(source: Source, moment: dt.datetime) -> bool:
    """Whether the conversation had begun and was not resolved at `moment`."""
    if source.conversation.created_at >= moment:
        return False
    resolved = False
    for transition in source.transitions:
        if transition.at > moment:
            break
        resolved = transition.resolves
    return not resolved


def contact_gaps(facts: dict[int, ConversationFact], sources: dict[int, Source]) -> None:
    """repeat_gap_seconds and explain_twice_gap_seconds of every conversation of the contacts in `facts`
    (which holds all of each contact's conversations)."""
    by_contact: dict[int, list[ConversationFact]] = defaultdict(list)
    for fact in facts.values():
        by_contact[fact.contact_id].append(fact)
    for items in by_contact.values():
        items.sort(key=lambda f: (f.created_at, f.conversation_id))
        for i, fact in enumerate(items):
            later = items[i + 1] if i + 1 < len(items) else None
            fact.repeat_gap_seconds = _seconds(fact.created_at, later.created_at) if later else None
            gaps = [_seconds(earlier.created_at, fact.created_at) for earlier in items[:i]
                    if open_at(sources[earlier.conversation_id], fact.created_at)]
            fact.explain_twice_gap_seconds = min(gaps) if gaps else None


def write_facts(facts: list[ConversationFact]) -> None:
    """Replace the facts (and their channel and tag rows) of these conversations."""
    ids = [f.conversation_id for f in facts]
    FactChannel.objects.filter(fact_id__in=ids).delete()
    FactTag.objects.filter(fact_id__in=ids).delete()
    ConversationFact.objects.filter(conversation_id__in=ids).delete()
    ConversationFact.objects.bulk_create(facts)
    FactChannel.objects.bulk_create([
        FactChannel(fact_id=f.conversation_id, workspace_id=f.workspace_id, channel_id=channel,
                    created_day=f.created_day) for f in facts for channel in f.channels_used])
    FactTag.objects.bulk_create([
        FactTag(fact_id=f.conversation_id, workspace_id=f.workspace_id, tag=tag, created_day=f.created_day)
        for f in facts for tag in f.tags])


def recompute_conversations(conversation_ids: Iterable[int]) -> tuple[set[tuple[int, dt.date]],
                                                                      set[tuple[int, dt.date]]]:
    """Recompute the facts of these conversations and of every other conversation of their contacts; returns
    the (workspace, local day) pairs of their activity since they were last computed (whose agent and channel
    day facts are then stale), and the creation days of every fact written or removed (whose rollups are)."""
    wanted = set(conversation_ids)
    contacts = set(Conversation.objects.filter(pk__in=wanted).values_list("contact_id", flat=True))
    siblings = set(Conversation.objects.filter(contact_id__in=contacts, merged_into__isnull=True)
                   .values_list("pk", flat=True))
    sources = load_sources(wanted | siblings)
    previous = dict(ConversationFact.objects.filter(pk__in=wanted).values_list("pk", "computed_at"))
    moment, calendars = now(), Calendars()
    zones: dict[int, ZoneInfo] = {}
    facts: dict[int, ConversationFact] = {}
    days: set[tuple[int, dt.date]] = set()
    for pk, source in sources.items():
        ws = source.conversation.workspace_id
        zone = zone_in(zones, ws)
        facts[pk] = build_fact(source, zone, calendars, moment)
        if pk in wanted:  # the days of what happened since the last computation (all of them the first time)
            since = previous[pk] - SETTLING if pk in previous else None
            moments = [source.conversation.created_at, *(m[0] for m in source.messages),
                       *(t.at for t in source.transitions)]
            days.update((ws, local_day(at, zone)) for at in moments if since is None or at >= since)
    contact_gaps(facts, sources)
    gone = wanted - set(sources)  # merged away or deleted
    created = {(f.workspace_id, f.created_day) for f in facts.values()}
    created.update(ConversationFact.objects.filter(conversation_id__in=gone).values_list("workspace_id",
                                                                                          "created_day"))
    ConversationFact.objects.filter(conversation_id__in=gone).delete()
    write_facts(list(facts.values()))
    return days, created


# ── per day ──────────────────────────────────────────────────────────────────────────────────────────
def recompute_day(workspace_id: int, day: dt.date, zone: ZoneInfo | None = None) -> None:
    """Replace the agent and channel facts of one local day from that day's messages and timeline rows, and
    the agents' presence intervals (time online and occupancy)."""
    zone = zone or zone_of(workspace_id)
    start, end = day_bounds(day, zone)
    in_day = Q(workspace_id=workspace_id, created_at__gte=start, created_at__lt=end)
    channel_rows: dict[int, dict[str, object]] = defaultdict(
        lambda: {"inbound": 0, "outbound": 0, "contacts": set(), "new": 0})
    agent_rows: dict[int, dict[str, object]] = defaultdict(
        lambda: {"replies": 0, "handled": set(), "first": [], "resolutions": 0})
    replied: set[int] = set()
    for conversation_id, contact_id, direction, kind, author_id, channel_id in (
            Message.objects.filter(in_day, is_note=False).values_list(
                "conversation_id", "conversation__contact_id", "direction", "author_kind", "author_membership_id",
                "channel_id")):
        if kind not in SIDES:
            continue
        if channel_id is not None:
            row = channel_rows[channel_id]
            row["inbound" if direction == Direction.INBOUND else "outbound"] += 1  # type: ignore[operator]
            row["contacts"].add(contact_id)  # type: ignore[attr-defined]
        if kind == AuthorKind.AGENT and author_id is not None:
            agent = agent_rows[author_id]
            agent["replies"] += 1  # type: ignore[operator]
            agent["handled"].add(conversation_id)  # type: ignore[attr-defined]
            replied.add(conversation_id)
    for channel_id, count in _count_by(Conversation.objects.filter(in_day, merged_into__isnull=True,
                                                                   origin_channel__isnull=False), "origin_channel_id"):
        channel_rows[channel_id]["new"] = count
    for responder, seconds in ConversationFact.objects.filter(
            conversation_id__in=replied, first_response_at__gte=start, first_response_at__lt=end,
            first_responder_id__isnull=False).values_list("first_responder_id", "first_response_seconds"):
        agent_rows[responder]["first"].append(seconds)  # type: ignore[attr-defined]
    for actor_id, data in ConversationEvent.objects.filter(in_day, kind="status_changed", actor__isnull=False) \
            .values_list("actor_id", "data"):
        if data.get("new") in RESOLVED and data.get("old") not in RESOLVED:
            agent_rows[actor_id]["resolutions"] += 1  # type: ignore[operator]
    occupancy = agent_day(workspace_id, start, end, now())
    for agent_id in occupancy:
        agent_rows[agent_id]  # noqa: B018 - an agent online that day has a row even without replies
    ChannelDayFact.objects.filter(workspace_id=workspace_id, day=day).delete()
    AgentDayFact.objects.filter(workspace_id=workspace_id, day=day).delete()
    ChannelDayFact.objects.bulk_create([
        ChannelDayFact(workspace_id=workspace_id, channel_id=channel_id, day=day, new_conversations=row["new"],
                       inbound=row["inbound"], outbound=row["outbound"], unique_contacts=len(row["contacts"]))
        for channel_id, row in channel_rows.items()])
    AgentDayFact.objects.bulk_create([
        AgentDayFact(workspace_id=workspace_id, agent_id=agent_id, day=day, handled=len(row["handled"]),
                     replies=row["replies"], first_responses=len(row["first"]),
                     median_first_response_seconds=nearest_rank(sorted(row["first"]), 50),
                     resolutions=row["resolutions"], online_seconds=occupancy.get(agent_id, (0, 0))[0],
                     busy_seconds=occupancy.get(agent_id, (0, 0))[1])
        for agent_id, row in agent_rows.items()])


def _count_by(queryset, column: str) -> list[tuple[int, int]]:  # noqa: ANN001 - any queryset
    from django.db.models import Count

    return list(queryset.values_list(column).annotate(n=Count("pk")).values_list(column, "n").order_by())
