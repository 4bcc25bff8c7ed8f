"""SLA end to end with frozen time: messages arrive through the API channel, timers run as durable jobs,
and deadlines are counted in each team's business hours (DST, weekends, public holidays)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from threadline.conversations.models import Conversation, ConversationEvent
from threadline.events.models import OutboxEvent
from threadline.jobs.models import Job
from threadline.jobs.scheduler import tick
from threadline.routing.models import AgentProfile, Presence
from threadline.tenancy.actions import do_create_team
from threadline.testing.factories import make_agent, make_api_channel, signed_body

NINE_TO_FIVE = [["09:00", "17:00"]]
SUN_THU = {day: NINE_TO_FIVE for day in ("sun", "mon", "tue", "wed", "thu")}
MON_FRI = {day: NINE_TO_FIVE for day in ("mon", "tue", "wed", "thu", "fri")}
SAT_WED = {**{day: [["08:00", "16:00"]] for day in ("sat", "sun", "mon", "tue", "wed")}, "thu": [["08:00", "12:00"]]}


def at(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def inbound(client, channel, text: str, message_id: str, sender: str = "dana.levi@example.com") -> None:
    body, headers = signed_body(channel, {
        "message_id": message_id, "text": text, "subject": "Order 1001",
        "sender": {"kind": "email", "address": sender, "name": "Dana Levi", "verified": True},
    })
    response = client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers)
    assert response.status_code == 202, response.content


def make_sla(api, zone: str, weekly: dict, country: str, **targets) -> tuple[dict, dict]:
    schedule = api.post("/api/v1/sla/schedules", {"name": f"Support {zone}", "time_zone": zone, "weekly": weekly,
                                                   "holiday_country": country}, content_type="application/json")
    assert schedule.status_code == 201, schedule.content
    body = {"name": f"Standard {zone}", "schedule_id": schedule.json()["id"], **targets}
    policy = api.post("/api/v1/sla/policies", body, content_type="application/json")
    assert policy.status_code == 201, policy.content
    return schedule.json(), policy.json()


def timer(api, conversation: Conversation, metric: str) -> dict:
    sla = api.get(f"/api/v1/sla/conversations/{conversation.pk}")
    assert sla.status_code == 200, sla.content
    found = [t for t in sla.json()["timers"] if t["metric"] == metric and t["state"] != "cancelled"]
    assert found, sla.json()
    return found[-1]


def kinds(conversation: Conversation) -> list[str]:
    return list(ConversationEvent.objects.filter(conversation=conversation).values_list("kind", flat=True))


def test_thursday_evening_in_jerusalem_is_due_sunday_morning_then_warns_and_breaches(api, admin, run_jobs):
    make_sla(api, "Asia/Jerusalem", SUN_THU, "IL", first_response_minutes=60, resolution_minutes=8 * 60,
             warn_before_minutes=15, escalation=[{"type": "set_priority", "value": "urgent"}, {"type": "notify"}])
    channel = make_api_channel(admin)
    jerusalem = ZoneInfo("Asia/Jerusalem")
    with time_machine.travel(at("Asia/Jerusalem", 2026, 3, 26, 19, 0), tick=False) as clock:  # Thursday evening
        inbound(api, channel, "ההזמנה שלי לא הגיעה", "m-1")
        run_jobs()
        conversation = Conversation.objects.get()
        due = parse(timer(api, conversation, "first_response")["due_at"])
        assert due.astimezone(jerusalem).strftime("%A %Y-%m-%d %H:%M %z") == "Sunday 2026-03-29 10:00 +0300"
        assert conversation.sla_state["metrics"]["first_response"]["state"] == "running"  # mirrored on the row
        resolution = parse(timer(api, conversation, "resolution")["due_at"])
        assert resolution == at("Asia/Jerusalem", 2026, 3, 29, 17, 0)  # Sun 09:00 + 8 business hours

        clock.move_to(at("Asia/Jerusalem", 2026, 3, 29, 9, 40))  # Sunday, before the warning (09:45)
        run_jobs()
        assert "sla_warning" not in kinds(conversation)
        clock.move_to(at("Asia/Jerusalem", 2026, 3, 29, 9, 46))
        run_jobs()
        assert "sla_warning" in kinds(conversation) and "sla_breached" not in kinds(conversation)
        clock.move_to(at("Asia/Jerusalem", 2026, 3, 29, 10, 1))
        run_jobs()
        assert kinds(conversation).count("sla_breached") == 1
        conversation.refresh_from_db()
        assert conversation.priority == "urgent"  # escalation
        assert OutboxEvent.objects.filter(type="sla.breached").count() == 1
        notified = OutboxEvent.objects.get(type="sla.notification_requested").payload
        assert admin.pk in notified["recipient_ids"]
        assert timer(api, conversation, "first_response")["breached_at"] is not None
        run_jobs()  # the sweep or a repeated job never breaches twice
        assert kinds(conversation).count("sla_breached") == 1


ZONES = [
    # zone, weekly, holidays, opened (local), business minutes, expected deadline (local)
    ("Asia/Jerusalem", SUN_THU, "IL", (2026, 4, 1, 16, 30), 120, (2026, 4, 5, 10, 30)),  # Pesach + weekend
    ("Asia/Tehran", SAT_WED, "IR", (2026, 3, 19, 11, 0), 180, (2026, 3, 25, 10, 0)),  # Thursday half day + Nowruz
    ("Asia/Bangkok", {d: [["09:00", "18:00"]] for d in MON_FRI}, "TH", (2026, 4, 10, 17, 0), 120,
     (2026, 4, 16, 10, 0)),  # Songkran
    ("Europe/Prague", MON_FRI, "CZ", (2026, 10, 23, 16, 0), 120, (2026, 10, 26, 10, 0)),  # DST ends on Sunday
    ("America/New_York", MON_FRI, "US", (2026, 3, 6, 16, 30), 60, (2026, 3, 9, 9, 30)),  # DST starts on Sunday
    ("America/New_York", MON_FRI, "US", (2026, 11, 25, 16, 0), 120, (2026, 11, 27, 10, 0)),  # Thanksgiving
]


@pytest.mark.parametrize(("zone", "weekly", "country", "opened", "minutes", "expected"), ZONES,
                         ids=[f"{z[0]}-{z[3][1]:02d}{z[3][2]:02d}" for z in ZONES])
def test_first_response_deadline_in_business_time(api, admin, run_jobs, zone, weekly, country, opened, minutes,
                                                  expected):
    make_sla(api, zone, weekly, country, first_response_minutes=minutes)
    channel = make_api_channel(admin)
    with time_machine.travel(at(zone, *opened), tick=False):
        inbound(api, channel, "Where is my order?", "m-1")
        run_jobs()
        due = parse(timer(api, Conversation.objects.get(), "first_response")["due_at"])
    assert due == at(zone, *expected)
    assert due.astimezone(ZoneInfo(zone)).hour == expected[3]


def test_pending_pauses_the_clock_and_the_customer_reply_resumes_it(api, admin, run_jobs):
    make_sla(api, "America/New_York", MON_FRI, "US", first_response_minutes=120)
    channel = make_api_channel(admin)
    with time_machine.travel(at("America/New_York", 2026, 3, 2, 10, 0), tick=False) as clock:  # Monday
        inbound(api, channel, "My card was declined", "m-1")
        run_jobs()
        conversation = Conversation.objects.get()
        assert parse(timer(api, conversation, "first_response")["due_at"]) == at("America/New_York", 2026, 3, 2, 12, 0)
        clock.move_to(at("America/New_York", 2026, 3, 2, 10, 30))
        response = api.patch(f"/api/v1/conversations/{conversation.pk}", {"status": "pending"},
                             content_type="application/json")
        assert response.status_code == 200, response.content
        run_jobs()
        paused = timer(api, conversation, "first_response")
        assert (paused["state"], paused["due_at"], paused["remaining_seconds"]) == ("paused", None, 90 * 60)

        clock.move_to(at("America/New_York", 2026, 3, 3, 16, 0))  # Tuesday: past the old deadline, no breach
        run_jobs()
        assert "sla_breached" not in kinds(conversation)
        inbound(api, channel, "Any news?", "m-2")
        run_jobs()
        resumed = timer(api, conversation, "first_response")
        assert resumed["state"] == "running"
        assert parse(resumed["due_at"]) == at("America/New_York", 2026, 3, 4, 9, 30)  # 60 min today, 30 tomorrow


def test_an_agent_reply_fulfils_the_first_response_and_a_new_message_starts_next_response(api, admin, run_jobs):
    make_sla(api, "Europe/Prague", MON_FRI, "CZ", first_response_minutes=60, next_response_minutes=30)
    channel = make_api_channel(admin)
    with time_machine.travel(at("Europe/Prague", 2026, 6, 1, 9, 0), tick=False) as clock:
        inbound(api, channel, "Moje objednávka ještě nedorazila", "m-1")
        run_jobs()
        conversation = Conversation.objects.get()
        clock.move_to(at("Europe/Prague", 2026, 6, 1, 9, 20))
        reply = api.post(f"/api/v1/conversations/{conversation.pk}/messages", {"text": "Dobrý den, prověříme to."},
                         content_type="application/json")
        assert reply.status_code == 201, reply.content
        run_jobs()
        first = timer(api, conversation, "first_response")
        assert first["state"] == "fulfilled" and first["breached_at"] is None
        clock.move_to(at("Europe/Prague", 2026, 6, 1, 16, 50))
        inbound(api, channel, "Děkuji, a kdy to dorazí?", "m-2")
        run_jobs()
        following = timer(api, conversation, "next_response")
        assert parse(following["due_at"]) == at("Europe/Prague", 2026, 6, 2, 9, 20)  # 10 min today, 20 tomorrow
        clock.move_to(at("Europe/Prague", 2026, 6, 2, 12, 0))
        run_jobs()
        assert kinds(conversation).count("sla_breached") == 1  # next response only; first was met in time


def test_the_policy_is_chosen_by_conditions_and_follows_a_priority_change(api, admin, run_jobs):
    urgent = api.post("/api/v1/sla/policies", {"name": "Urgent", "position": 0, "conditions": {"priorities": ["urgent"]},
                                               "first_response_minutes": 15}, content_type="application/json")
    standard = api.post("/api/v1/sla/policies", {"name": "Standard", "position": 1, "first_response_minutes": 240},
                        content_type="application/json")
    assert (urgent.status_code, standard.status_code) == (201, 201)
    channel = make_api_channel(admin)
    with time_machine.travel(dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC), tick=False) as clock:
        inbound(api, channel, "Site is down!", "m-1")
        run_jobs()
        conversation = Conversation.objects.get()
        first = timer(api, conversation, "first_response")
        assert (first["policy_id"], parse(first["due_at"])) == (standard.json()["id"],
                                                                dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC))
        clock.move_to(dt.datetime(2026, 6, 1, 8, 5, tzinfo=dt.UTC))
        api.patch(f"/api/v1/conversations/{conversation.pk}", {"priority": "urgent"}, content_type="application/json")
        run_jobs()
        first = timer(api, conversation, "first_response")
        assert (first["policy_id"], parse(first["due_at"])) == (urgent.json()["id"],
                                                                dt.datetime(2026, 6, 1, 8, 15, tzinfo=dt.UTC))


def test_schedule_and_policy_validation_answer_400(api):
    bad_zone = api.post("/api/v1/sla/schedules", {"name": "x", "time_zone": "Mars/Olympus", "weekly": MON_FRI},
                        content_type="application/json")
    bad_range = api.post("/api/v1/sla/schedules", {"name": "x", "time_zone": "UTC", "weekly": {"mon": [["17:00", "09:00"]]}},
                         content_type="application/json")
    no_target = api.post("/api/v1/sla/policies", {"name": "x"}, content_type="application/json")
    assert [r.status_code for r in (bad_zone, bad_range, no_target)] == [400, 400, 400]
    assert [r.json()["code"] for r in (bad_zone, bad_range, no_target)] == ["invalid_time_zone", "invalid_range",
                                                                            "no_target"]


def test_deadline_endpoint(api):
    schedule, _policy = make_sla(api, "Asia/Jerusalem", SUN_THU, "IL", first_response_minutes=60)
    response = api.get(f"/api/v1/sla/schedules/{schedule['id']}/deadline",
                       {"start": "2026-03-26T19:00:00+02:00", "minutes": 60})
    assert response.status_code == 200, response.content
    assert parse(response.json()["due_at"]) == at("Asia/Jerusalem", 2026, 3, 29, 10, 0)
    assert response.json()["open_at_start"] is False
    naive = api.get(f"/api/v1/sla/schedules/{schedule['id']}/deadline", {"start": "2026-03-26T19:00:00", "minutes": 1})
    assert naive.status_code == 422


def test_the_sweep_records_a_breach_whose_job_was_lost_and_reassign_escalates(api, admin, run_jobs):
    first, second = make_agent(admin, "first@example.com"), make_agent(admin, "second@example.com")
    with transaction.atomic():
        team = do_create_team(admin.workspace, "Support", [first, second])
        for member in (first, second):
            AgentProfile.objects.create(workspace=admin.workspace, membership=member, presence=Presence.ONLINE)
    api.patch(f"/api/v1/routing/teams/{team.pk}/policy", {"policy": "round_robin"}, content_type="application/json")
    api.post("/api/v1/routing/rules", {"name": "all", "team_ids": [team.pk]}, content_type="application/json")
    api.post("/api/v1/sla/policies", {"name": "Fast", "first_response_minutes": 30, "warn_before_minutes": 0,
                                      "escalation": [{"type": "reassign"}]}, content_type="application/json")
    channel = make_api_channel(admin)
    start = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        inbound(api, channel, "Hello?", "m-1")
        run_jobs()
        conversation = Conversation.objects.get()
        assert conversation.assignee_id == first.pk
        Job.objects.filter(task="threadline.sla.tasks.sla_timer_task").delete()  # say a restore lost them
        clock.move_to(start + dt.timedelta(minutes=31))
        tick()  # the periodic sweep
        run_jobs()
        conversation.refresh_from_db()
        assert kinds(conversation).count("sla_breached") == 1
        assert conversation.assignee_id == second.pk  # escalation: reassigned, never back to the same agent


def test_policies_by_contact_attribute_and_channel(api, admin, run_jobs):
    def policy(name: str, position: int, minutes: int, **conditions) -> int:
        response = api.post("/api/v1/sla/policies", {"name": name, "position": position, "conditions": conditions,
                                                     "first_response_minutes": minutes}, content_type="application/json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    vip = policy("VIP on the shop API", 0, 10, contact_attributes={"plan": "vip"}, channel_kinds=["api"])
    email = policy("Email", 1, 120, channel_kinds=["email"])
    default = policy("Default", 2, 240)
    contact = api.post("/api/v1/contacts", {"name": "Vera Vip", "attributes": {"plan": "vip"},
                                            "identities": [{"kind": "email", "address": "vera@example.com"}]},
                       content_type="application/json")
    assert contact.status_code == 201, contact.content
    channel = make_api_channel(admin)
    inbound(api, channel, "Hello", "m-1", sender="vera@example.com")
    inbound(api, channel, "Hello", "m-2", sender="sam@example.com")
    run_jobs()
    chosen = {c.contact.name: timer(api, c, "first_response")["policy_id"] for c in Conversation.objects.all()}
    assert chosen == {"Vera Vip": vip, "Dana Levi": default}
    assert email not in chosen.values()
