"""Routing end to end: inbound messages are stored by the channel-agnostic entry, the routing subscriber
assigns them from the worker, and agents and admins configure everything over /api/v1/routing."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import time_machine
from django.db import transaction

from threadline.channels.base import InboundMessage
from threadline.channels.models import Channel
from threadline.conversations.actions import receive_inbound_message
from threadline.conversations.models import Conversation
from threadline.events.models import OutboxEvent
from threadline.routing.models import RoutingDecision
from threadline.tenancy.actions import do_create_team
from threadline.tenancy.models import Membership, Role
from threadline.testing.factories import make_agent, make_api_channel, make_token


def json_body(response):
    assert response.status_code < 300, response.content
    return response.json()


def agents(admin: Membership, n: int, prefix: str = "agent") -> list[Membership]:
    return [make_agent(admin, f"{prefix}{i:03d}@example.com") for i in range(n)]


def team(admin: Membership, name: str, members: list[Membership]) -> int:
    with transaction.atomic():
        return do_create_team(admin.workspace, name, members).pk


def configure(api, member: Membership, *, languages=(), capacity=None, presence="online", skills=()) -> None:
    body = {"languages": list(languages), "skills": list(skills)}
    if capacity is not None:
        body["capacity"] = capacity
    json_body(api.patch(f"/api/v1/routing/agents/{member.pk}", body, content_type="application/json"))
    json_body(api.put(f"/api/v1/routing/agents/{member.pk}/presence", {"presence": presence},
                      content_type="application/json"))


def set_policy(api, team_id: int, **fields) -> dict:
    return json_body(api.patch(f"/api/v1/routing/teams/{team_id}/policy", fields, content_type="application/json"))


def rule(api, team_ids: list[int], **conditions) -> dict:
    body = {"name": f"to {team_ids}", "team_ids": team_ids, "conditions": conditions}
    return json_body(api.post("/api/v1/routing/rules", body, content_type="application/json"))


def inbound(channel: Channel, text: str, n: int, sender: str | None = None) -> Conversation:
    with transaction.atomic():
        message = receive_inbound_message(channel, InboundMessage(
            provider_message_id=f"m-{channel.pk}-{n}", sender_kind="email",
            sender_address=sender or f"customer{n}@example.com", sender_name=f"Customer {n}", text=text))
    return message.conversation


def assignee_of(conversation: Conversation) -> int | None:
    conversation.refresh_from_db()
    return conversation.assignee_id


def test_round_robin_is_fair_across_50_agents(api, admin):
    crew = agents(admin, 50)
    support = team(admin, "Support", crew)
    set_policy(api, support, policy="round_robin")
    rule(api, [support])
    for member in crew:
        configure(api, member, capacity={"chat": 10, "email": 10})
    channel = make_api_channel(admin)
    conversations = [inbound(channel, "Where is my order?", n) for n in range(150)]
    for conversation in conversations:  # routed on request here; the worker path is covered below
        decision = json_body(api.post(f"/api/v1/routing/conversations/{conversation.pk}/route"))
        assert decision["outcome"] == "assigned"
    load = Counter(assignee_of(c) for c in conversations)
    assert None not in load
    assert sorted(load) == sorted(m.pk for m in crew)
    assert set(load.values()) == {3}  # every agent got exactly three, in turn
    first_round = [assignee_of(c) for c in conversations[:50]]
    assert first_round == sorted(m.pk for m in crew)


def test_capacity_is_respected_per_channel_class_and_freed_capacity_is_used(api, admin, run_jobs):
    ada, ben = agents(admin, 2)
    support = team(admin, "Support", [ada, ben])
    leads = team(admin, "Leads", [admin])
    set_policy(api, support, policy="least_loaded", escalation_team_id=leads)
    rule(api, [support])
    configure(api, ada, capacity={"chat": 1, "email": 1})
    configure(api, ben, capacity={"chat": 2, "email": 0})
    chat = make_api_channel(admin)
    with transaction.atomic():
        mailbox = Channel.objects.create(workspace=admin.workspace, kind="email", name="Mailbox")
    chats = [inbound(chat, "Hello, I need help", n) for n in range(4)]
    run_jobs()
    assert Counter(assignee_of(c) for c in chats) == {ada.pk: 1, ben.pk: 2, None: 1}
    waiting = next(c for c in chats if c.assignee_id is None)
    assert waiting.team_id == leads and waiting.priority == "high"  # escalated once
    assert OutboxEvent.objects.filter(type="routing.escalated").count() == 1
    decision = RoutingDecision.objects.filter(conversation=waiting).latest("id")
    assert decision.outcome == "escalated" and decision.reason["tried"][0]["eligible"] == 0

    email = inbound(mailbox, "Invoice request", 99, sender="billing@example.com")
    run_jobs()
    assert assignee_of(email) == ada.pk  # chats are full, but email capacity is counted apart

    ada_chat = next(c for c in chats if c.assignee_id == ada.pk)
    json_body(api.patch(f"/api/v1/conversations/{ada_chat.pk}", {"status": "solved"}, content_type="application/json"))
    set_policy(api, leads, policy="least_loaded", overflow_team_id=support)
    run_jobs()
    assert assignee_of(waiting) == ada.pk  # the freed seat went to the conversation that waited


def test_language_skill_is_preferred(api, admin, run_jobs):
    english, hebrew, polyglot = agents(admin, 3)
    support = team(admin, "Support", [english, hebrew, polyglot])
    set_policy(api, support, policy="skills")
    rule(api, [support])
    configure(api, english, languages=["en"])
    configure(api, hebrew, languages=["he"])
    configure(api, polyglot, languages=["he", "cs"])
    channel = make_api_channel(admin)
    texts = ["ההזמנה שלי לא הגיעה", "שלום, אני לא מצליח להתחבר", "Moje objednávka ještě nedorazila",
             "My order hasn't arrived", "คำสั่งซื้อของฉันยังไม่มาถึง"]
    conversations = [inbound(channel, text, n) for n, text in enumerate(texts)]
    run_jobs()
    got = [(c.language, assignee_of(c)) for c in (Conversation.objects.get(pk=c.pk) for c in conversations)]
    assert got[0] == ("he", hebrew.pk)
    assert got[1] == ("he", polyglot.pk)  # both Hebrew speakers, the less loaded one
    assert got[2] == ("cs", polyglot.pk)  # the only Czech speaker, although busier than the English one
    assert got[3] == ("en", english.pk)
    assert got[4][0] == "th" and got[4][1] in {english.pk, hebrew.pk}  # nobody speaks Thai: least loaded
    reason = RoutingDecision.objects.get(conversation=conversations[0]).reason
    assert reason["tried"][0]["result"] == "language_skill"


def test_overflow_then_escalation_when_nobody_can_take_it(api, admin, run_jobs):
    tier1_agent, tier2_agent, lead = agents(admin, 3)
    tier1 = team(admin, "Tier 1", [tier1_agent])
    tier2 = team(admin, "Tier 2", [tier2_agent])
    leads = team(admin, "Leads", [lead])
    set_policy(api, tier1, policy="round_robin", overflow_team_id=tier2, escalation_team_id=leads)
    set_policy(api, tier2, policy="round_robin")
    rule(api, [tier1])
    configure(api, tier1_agent, presence="offline")
    configure(api, tier2_agent, capacity={"chat": 1})
    configure(api, lead)
    channel = make_api_channel(admin)
    first = inbound(channel, "Help please", 1)
    run_jobs()
    first.refresh_from_db()
    assert (first.team_id, first.assignee_id) == (tier2, tier2_agent.pk)  # overflowed
    tried = RoutingDecision.objects.get(conversation=first).reason["tried"]
    assert [(t["team_id"], t.get("eligible")) for t in tried] == [(tier1, 0), (tier2, 1)]

    second = inbound(channel, "Help please", 2)
    run_jobs()
    second.refresh_from_db()
    assert (second.team_id, second.assignee_id) == (leads, None)  # escalated to the leads' queue
    escalated = OutboxEvent.objects.get(type="routing.escalated").payload
    assert escalated["recipient_ids"] == [lead.pk]
    assert second.events.filter(kind="routing_escalated").count() == 1


def test_follow_the_sun_picks_the_team_that_is_open(api, admin, run_jobs):
    bangkok_agent, prague_agent = agents(admin, 2)
    bangkok = team(admin, "Bangkok", [bangkok_agent])
    prague = team(admin, "Prague", [prague_agent])
    for team_id, zone, hours in ((bangkok, "Asia/Bangkok", ["09:00", "18:00"]), (prague, "Europe/Prague", ["09:00", "17:00"])):
        schedule = json_body(api.post("/api/v1/sla/schedules", {
            "name": zone, "time_zone": zone, "weekly": {d: [hours] for d in ("mon", "tue", "wed", "thu", "fri")}},
            content_type="application/json"))
        set_policy(api, team_id, policy="round_robin", schedule_id=schedule["id"])
    rule(api, [bangkok, prague])
    configure(api, bangkok_agent)
    configure(api, prague_agent)
    channel = make_api_channel(admin)
    with time_machine.travel(dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC), tick=False):  # 11:00 in Bangkok
        morning = inbound(channel, "Hello", 1)
        run_jobs()
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC), tick=False):  # 19:00 BKK, 14:00 CEST
        afternoon = inbound(channel, "Hello", 2)
        run_jobs()
    assert assignee_of(morning) == bangkok_agent.pk
    assert assignee_of(afternoon) == prague_agent.pk


def test_an_agent_going_offline_hands_open_chats_to_others_but_keeps_email(api, admin, run_jobs, client):
    leaving, staying = agents(admin, 2)
    support = team(admin, "Support", [leaving, staying])
    set_policy(api, support, policy="round_robin")
    rule(api, [support])
    configure(api, leaving, capacity={"chat": 5, "email": 5})
    channel = make_api_channel(admin)
    with transaction.atomic():
        mailbox = Channel.objects.create(workspace=admin.workspace, kind="email", name="Mailbox")
    chats = [inbound(channel, "Hi", n) for n in range(2)]
    email = inbound(mailbox, "Invoice", 9, sender="billing@example.com")
    run_jobs()
    assert {assignee_of(c) for c in [*chats, email]} == {leaving.pk}
    configure(api, staying, capacity={"chat": 5})
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {make_token(leaving)}"  # agents set their own presence
    answer = json_body(client.put(f"/api/v1/routing/agents/{leaving.pk}/presence", {"presence": "offline"},
                                  content_type="application/json"))
    assert sorted(answer["reassigned_conversation_ids"]) == sorted(c.pk for c in chats)
    assert {assignee_of(c) for c in chats} == {staying.pk}
    assert assignee_of(email) == leaving.pk
    other = client.put(f"/api/v1/routing/agents/{staying.pk}/presence", {"presence": "offline"},
                       content_type="application/json")
    assert (other.status_code, other.json()["code"]) == (403, "permission_denied")


def test_routing_api_validation_and_permissions(api, admin, client):
    light = make_agent(admin, "light@example.com", role=Role.LIGHT_AGENT)
    support = team(admin, "Support", [])
    assert api.post("/api/v1/routing/rules", {"name": "x", "team_ids": [999999]},
                    content_type="application/json").json()["code"] == "invalid_team"
    assert api.patch(f"/api/v1/routing/agents/{light.pk}", {"capacity": {"chat": -1}},
                     content_type="application/json").json()["code"] == "invalid_capacity"
    assert api.patch(f"/api/v1/routing/teams/{support}/policy", {"overflow_team_id": support},
                     content_type="application/json").status_code == 400
    assert api.patch(f"/api/v1/routing/teams/{support}/policy", {"policy": "lottery"},
                     content_type="application/json").status_code == 422
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {make_token(light)}"
    assert client.post("/api/v1/routing/rules", {"name": "x", "team_ids": [support]},
                       content_type="application/json").status_code == 403
    assert client.get("/api/v1/routing/conversations/424242/decisions").status_code == 404
    profile = json_body(client.get(f"/api/v1/routing/agents/{light.pk}"))
    assert profile["capacity"] == {"chat": 3, "email": 10} and profile["presence"] == "offline"
