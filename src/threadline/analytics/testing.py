"""A deterministic month of conversations for the analytics tests: a plan (plain data: who wrote on which
channel when, who resolved and reopened, the bot's outcome, SLA outcomes) and the rows it is written as.

The plan is the ground truth: tests compute every metric's expected value from it in plain Python, without
the analytics code, and compare with what the facts give. Times are whole minutes from the start of the
month (local midnight of `START` in `ZONE`), always increasing within a conversation. Surveys (CSAT, NPS, CES)
follow most conversations solved at the end: some held by quiet hours (not sent yet), some never answered.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import transaction

from threadline.channels.models import Channel
from threadline.contacts.models import Contact
from threadline.conversations.models import (
    AuthorKind,
    Conversation,
    ConversationEvent,
    Direction,
    Message,
    Tag,
)
from threadline.events.models import OutboxEvent
from threadline.routing.models import PresenceInterval
from threadline.sla.models import BusinessSchedule, SlaPolicy, SlaTimer, TimerState
from threadline.surveys.models import Survey, SurveyRequest, SurveyResponse
from threadline.tenancy.models import Membership
from threadline.testing.bulk import given_times

ZONE = "Asia/Jerusalem"
START = dt.date(2026, 11, 2)  # a Monday
DAYS = 30
WEEKLY = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
CHANNEL_KINDS = ("email", "sms", "webchat")
TAGS = ("billing", "shipping", "vip")
LANGUAGES = ("en", "he", "cs")
BOT_OUTCOMES = ("resolved", "handed_over", "abandoned")
SURVEY_KINDS = ("csat", "nps", "ces")
SURVEY_SCALES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}


@dataclass
class Step:
    minute: int
    side: str  # contact, agent, bot
    channel: int  # index into the channels
    agent: int | None = None  # index into the agents


@dataclass
class Change:
    minute: int
    resolves: bool  # True: to solved; False: reopened
    agent: int | None = None


@dataclass
class ConversationPlan:
    contact: int
    start: int  # minute of the month it was created
    origin: int
    language: str
    tags: list[str]
    assignees: list[tuple[int, int]] = field(default_factory=list)  # (minute, agent) assignments, in order
    steps: list[Step] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    bot_outcome: str = ""
    policy: int | None = None  # index into the policies
    sla_first_response: str = ""  # met, breached, running, ""
    sla_resolution: str = ""
    # (kind, held, score): a survey after the last resolution; held: still waiting for quiet hours to end (not
    # sent); score None: not answered
    survey: tuple[str, bool, int | None] | None = None


@dataclass
class Plan:
    conversations: list[ConversationPlan]
    contacts: int
    agents: int
    channels: int = len(CHANNEL_KINDS)
    policies: int = 2
    # (minute, agent, status) presence changes in order of minute per agent (routing.PresenceInterval rows)
    presence: list[tuple[int, int, str]] = field(default_factory=list)


def make_plan(seed: int = 14, conversations: int = 160, contacts: int = 60, agents: int = 4,
              presence: bool = False) -> Plan:
    rng = random.Random(seed)
    plans = []
    for _n in range(conversations):
        start = rng.randrange(DAYS * 1440 - 600)
        origin = rng.randrange(len(CHANNEL_KINDS))
        plan = ConversationPlan(contact=rng.randrange(contacts), start=start, origin=origin,
                                language=rng.choice(LANGUAGES), tags=sorted(rng.sample(TAGS, rng.randint(0, 2))))
        t = start
        plan.steps.append(Step(t, "contact", origin))
        channel = origin
        agent = rng.randrange(agents)
        if rng.random() < 0.25:  # a bot answers first
            t += 1
            plan.steps.append(Step(t, "bot", channel))
            plan.bot_outcome = rng.choice(BOT_OUTCOMES)
            if plan.bot_outcome != "handed_over":
                t += 2
                if plan.bot_outcome == "resolved":
                    plan.changes.append(Change(t, True))
                plans.append(plan)
                continue
        if rng.random() < 0.85:
            plan.assignees.append((t + 1, agent))
            if rng.random() < 0.15:
                agent = (agent + 1) % agents
                plan.assignees.append((t + 2, agent))
        turns = rng.randint(0, 2)
        answered = rng.random() < 0.9
        for turn in range(turns + 1):
            if turn:
                t += rng.randint(5, 600)
                if rng.random() < 0.2:
                    channel = (channel + 1) % len(CHANNEL_KINDS)
                plan.steps.append(Step(t, "contact", channel))
            if not answered:
                break
            t += rng.randint(3, 900)
            plan.steps.append(Step(t, "agent", channel, agent))
        if answered and rng.random() < 0.75:
            t += rng.randint(5, 300)
            plan.changes.append(Change(t, True, agent))
            if rng.random() < 0.25:
                t += rng.randint(60, 3000)
                plan.changes.append(Change(t, False))
                t += rng.randint(1, 60)
                plan.steps.append(Step(t, "contact", channel))
                if rng.random() < 0.6:
                    t += rng.randint(5, 400)
                    plan.steps.append(Step(t, "agent", channel, agent))
                    t += rng.randint(1, 100)
                    plan.changes.append(Change(t, True, agent))
        if rng.random() < 0.5:
            plan.policy = rng.randrange(2)
            plan.sla_first_response = rng.choice(("met", "met", "breached")) if answered else "running"
            resolved = bool(plan.changes) and plan.changes[-1].resolves
            plan.sla_resolution = rng.choice(("met", "breached")) if resolved else "running"
        plans.append(plan)
    _plan_surveys(random.Random(seed + 1), plans)  # a second stream: the rest of the month stays as it was
    changes = _plan_presence(random.Random(seed + 2), agents) if presence else []
    return Plan(conversations=plans, contacts=contacts, agents=agents, presence=changes)


def _plan_presence(rng: random.Random, agents: int) -> list[tuple[int, int, str]]:
    """Working days online from about 08:00, away for lunch, offline in the evening (sometimes after midnight,
    sometimes away then offline without coming back)."""
    changes = []
    for agent in range(agents):
        for day in range(DAYS):
            if rng.random() < 0.2:
                continue
            base = day * 1440
            t = base + 420 + rng.randrange(180)
            changes.append((t, agent, "online"))
            t = base + 690 + rng.randrange(90)
            changes.append((t, agent, "away"))
            if rng.random() < 0.9:
                t += rng.randint(20, 70)
                changes.append((t, agent, "online"))
            end = base + 960 + rng.randrange(600 if rng.random() < 0.2 else 180)  # some past local midnight
            changes.append((max(end, t + 1), agent, "offline"))
    return changes


def _plan_surveys(rng: random.Random, plans: list[ConversationPlan]) -> None:
    """Most conversations solved at the end get one survey: some held by quiet hours, some never answered."""
    for plan in plans:
        if not (plan.changes and plan.changes[-1].resolves) or rng.random() < 0.3:
            continue
        kind = rng.choice(SURVEY_KINDS)
        held = rng.random() < 0.15
        low, high = SURVEY_SCALES[kind]
        score = None if held or rng.random() < 0.3 else rng.randint(low, high)
        plan.survey = (kind, held, score)


def month_start(zone: str = ZONE) -> dt.datetime:
    return dt.datetime.combine(START, dt.time(0), tzinfo=ZoneInfo(zone))


def at(minute: int) -> dt.datetime:
    return month_start().astimezone(dt.UTC) + dt.timedelta(minutes=minute)


@dataclass
class Written:
    channel_ids: list[int]
    agent_ids: list[int]
    contact_ids: list[int]
    policy_ids: list[int]
    conversation_ids: list[int]  # in the plan's order


def write(admin: Membership, plan: Plan) -> Written:
    """The plan's rows in `admin`'s workspace (whose time zone becomes ZONE), bypassing events and jobs."""
    from threadline.testing.factories import make_agent

    workspace = admin.workspace
    workspace.time_zone = ZONE
    workspace.save(update_fields=["time_zone"])
    agents = [make_agent(admin, f"analyst{i}-{workspace.pk}@example.com") for i in range(plan.agents)]
    with transaction.atomic(), given_times(ConversationEvent, SlaTimer, OutboxEvent):
        ws = workspace.pk
        channels = [Channel.objects.create(workspace=workspace, kind=kind, name=kind.title()) for kind in CHANNEL_KINDS]
        schedule = BusinessSchedule.objects.create(workspace=workspace, name="Office", time_zone=ZONE, weekly=WEEKLY)
        policies = [SlaPolicy.objects.create(workspace=workspace, name=f"Policy {i}", position=i, schedule=schedule,
                                             first_response_minutes=60, resolution_minutes=480) for i in range(2)]
        contacts = Contact.objects.bulk_create([Contact(workspace=workspace, name=f"Analytics {i}")
                                                for i in range(plan.contacts)])
        tags = {name: Tag.objects.create(workspace=workspace, name=name) for name in TAGS}
        surveys = {kind: Survey.objects.update_or_create(workspace=workspace, kind=kind, defaults={"enabled": True})[0]
                   for kind in SURVEY_KINDS} if any(p.survey for p in plan.conversations) else {}
        _write_presence(ws, plan, agents)
        ids = []
        for p in plan.conversations:
            ids.append(_write_conversation(ws, p, channels, agents, contacts, policies, tags))
            if p.survey is not None:
                _write_survey(ws, p, ids[-1], channels, contacts, surveys)
    return Written(channel_ids=[c.pk for c in channels], agent_ids=[a.pk for a in agents],
                   contact_ids=[c.pk for c in contacts], policy_ids=[p.pk for p in policies], conversation_ids=ids)


def _write_presence(ws: int, plan: Plan, agents: list[Membership]) -> None:
    rows = []
    for agent in range(plan.agents):
        mine = [(minute, status) for minute, a, status in plan.presence if a == agent]
        rows.extend(PresenceInterval(workspace_id=ws, membership=agents[agent], status=status, started_at=at(minute),
                                     ended_at=at(mine[i + 1][0]) if i + 1 < len(mine) else None)
                    for i, (minute, status) in enumerate(mine))
    PresenceInterval.objects.bulk_create(rows)


def _write_conversation(ws: int, p: ConversationPlan, channels: list[Channel], agents: list[Membership],
                        contacts: list[Contact], policies: list[SlaPolicy], tags: dict[str, Tag]) -> int:
    resolved = bool(p.changes) and p.changes[-1].resolves
    last = max([s.minute for s in p.steps] + [c.minute for c in p.changes])
    created = at(p.start)
    with given_times(Conversation, Message):
        conversation = Conversation.objects.create(
            workspace_id=ws, contact=contacts[p.contact], subject="Analytics", language=p.language,
            status="solved" if resolved else "open", origin_channel=channels[p.origin],
            assignee=agents[p.assignees[-1][1]] if p.assignees else None, created_at=created, updated_at=at(last),
            last_message_at=at(p.steps[-1].minute))
        conversation.tags.set([tags[name] for name in p.tags])
        Message.objects.bulk_create([Message(
            workspace_id=ws, conversation=conversation, channel=channels[s.channel], text=f"{s.side} at {s.minute}",
            direction=Direction.INBOUND if s.side == "contact" else Direction.OUTBOUND,
            author_kind={"contact": AuthorKind.CONTACT, "agent": AuthorKind.AGENT, "bot": AuthorKind.BOT}[s.side],
            author_contact=contacts[p.contact] if s.side == "contact" else None,
            author_membership=agents[s.agent] if s.agent is not None else None,
            status="received" if s.side == "contact" else "delivered", created_at=at(s.minute),
            updated_at=at(s.minute)) for s in p.steps])
    events = [ConversationEvent(workspace_id=ws, conversation=conversation, kind="assigned", actor=None,
                                data={"old": None, "new": agents[agent].pk}, created_at=at(minute),
                                updated_at=at(minute)) for minute, agent in p.assignees]
    status = "open"
    for change in p.changes:
        new = "solved" if change.resolves else "open"
        events.append(ConversationEvent(
            workspace_id=ws, conversation=conversation, kind="status_changed" if change.resolves else "reopened",
            actor=agents[change.agent] if change.agent is not None else None,
            data={"old": status, "new": new} if change.resolves else {"old": status, "reason": "customer wrote"},
            created_at=at(change.minute), updated_at=at(change.minute)))
        status = new
    ConversationEvent.objects.bulk_create(events)
    if p.policy is not None:
        policy = policies[p.policy]
        SlaTimer.objects.bulk_create([
            _timer(ws, conversation, policy, metric, outcome, created)
            for metric, outcome in (("first_response", p.sla_first_response), ("resolution", p.sla_resolution))])
    if p.bot_outcome:
        OutboxEvent.objects.create(workspace_id=ws, type=f"bot.{p.bot_outcome}",
                                   payload={"workspace_id": ws, "conversation_id": conversation.pk},
                                   created_at=at(last))
    return conversation.pk


def _write_survey(ws: int, p: ConversationPlan, conversation_id: int, channels: list[Channel],
                  contacts: list[Contact], surveys: dict[str, Survey]) -> None:
    kind, held, score = p.survey  # type: ignore[misc]
    sent = at(p.changes[-1].minute + 1)
    answered = at(p.changes[-1].minute + 30) if score is not None else None
    channel = channels[p.steps[-1].channel]
    request = SurveyRequest.objects.create(
        workspace_id=ws, survey=surveys[kind], kind=kind, conversation_id=conversation_id,
        contact=contacts[p.contact], channel=channel, answered_at=answered,
        due_at=sent + dt.timedelta(hours=8) if held else None)
    if score is not None:
        SurveyResponse.objects.create(workspace_id=ws, request=request, conversation_id=conversation_id,
                                      contact=contacts[p.contact], channel=channel, kind=kind, score=score,
                                      responded_at=answered)


def _timer(ws: int, conversation: Conversation, policy: SlaPolicy, metric: str, outcome: str,
           started: dt.datetime) -> SlaTimer:
    done = outcome in ("met", "breached")
    return SlaTimer(workspace_id=ws, conversation=conversation, policy=policy, metric=metric,
                    state=TimerState.FULFILLED if done else TimerState.RUNNING, started_at=started,
                    target_seconds=3600, breached_at=started + dt.timedelta(hours=9) if outcome == "breached" else None,
                    fulfilled_at=started + dt.timedelta(hours=10) if done else None, created_at=started,
                    updated_at=started)
