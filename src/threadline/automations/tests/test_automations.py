"""Automations end to end: triggers on real inbound messages, time rules from the scheduler with frozen
time, loop protection, the per-day cap, dry runs and the execution log, all configured over HTTP."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import time_machine
from django.db import transaction

from threadline.automations.models import AutomationRun
from threadline.channels.base import InboundMessage
from threadline.conversations.actions import receive_inbound_message
from threadline.conversations.models import AuthorKind, Conversation, Direction, Message
from threadline.jobs.scheduler import tick
from threadline.testing.factories import make_agent, make_api_channel, make_token


def ok(response, status: int = 200):
    assert response.status_code == status, response.content
    return response.json()


def post(api, path: str, body: dict, status: int = 201):
    return ok(api.post(path, body, content_type="application/json"), status)


def inbound(channel, text: str, n: int, sender: str = "dana.levi@example.com", **metadata) -> Conversation:
    with transaction.atomic():
        message = receive_inbound_message(channel, InboundMessage(
            provider_message_id=f"auto-{n}", sender_kind="email", sender_address=sender, sender_name="Dana Levi",
            text=text, metadata=metadata))
    return Conversation.objects.get(pk=message.conversation_id)


def template(api, name: str, variants: dict[str, str]) -> int:
    body = {"name": name, "kind": "automatic",
            "variants": [{"language": code, "text": text} for code, text in variants.items()]}
    return post(api, "/api/v1/replies/templates", body)["id"]


def automation(api, **fields) -> dict:
    return post(api, "/api/v1/automations", {"name": fields.pop("name", "rule"), **fields})


def runs(api, conversation: Conversation) -> list[dict]:
    return ok(api.get("/api/v1/automations/runs", {"conversation_id": conversation.pk}))["items"]


def test_a_trigger_on_language_and_keywords_tags_prioritises_and_replies_in_the_customers_language(
        api, admin, run_jobs, receiver):
    reply = template(api, "Refund acknowledgement", {
        "en": "Hi {{contact.first_name}}, we got your refund request #{{conversation.id}}.",
        "he": "שלום {{contact.first_name}}, קיבלנו את בקשת ההחזר שלך #{{conversation.id}}.",
    })
    automation(api, name="Hebrew refunds", events=["message.received"],
               conditions={"all": [{"field": "message.language", "op": "eq", "value": "he"},
                                   {"field": "message.text", "op": "contains_any", "value": ["החזר", "refund"]}]},
               actions=[{"type": "add_tags", "tags": ["refund"]}, {"type": "set_priority", "value": "high"},
                        {"type": "send_reply", "template_id": reply}])
    channel = make_api_channel(admin, webhook_url=receiver.url)
    conversation = inbound(channel, "אני רוצה החזר כספי על ההזמנה", 1)
    english = inbound(channel, "I would like a refund please", 2, sender="sam@example.com")
    run_jobs()
    conversation.refresh_from_db()
    assert conversation.priority == "high"
    assert list(conversation.tags.values_list("name", flat=True)) == ["refund"]
    sent = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert sent.author_kind == AuthorKind.SYSTEM and sent.language == "he"
    assert sent.text == f"שלום Dana, קיבלנו את בקשת ההחזר שלך #{conversation.pk}."
    delivered = json.loads(receiver.wait_for(1)[0].body)
    assert delivered["text"] == sent.text  # the customer got it through the channel
    assert conversation.first_response_at is None  # an automatic reply is not an agent's answer
    log = runs(api, conversation)
    assert [(r["outcome"], r["performed"]) for r in log] == [("done", ["add_tags", "set_priority", "send_reply"])]
    assert runs(api, english) == []  # English: the language condition does not hold
    assert conversation.events.filter(kind="automation_ran").count() == 1


def test_time_rules_remind_after_three_pending_days_and_solve_after_seven(api, admin, run_jobs, receiver):
    reminder = template(api, "Reminder", {"en": "Hi {{contact.first_name}}, do you still need help?"})
    pending = {"field": "conversation.status", "op": "eq", "value": "pending"}
    automation(api, name="Remind", kind="time", conditions={"all": [
        pending, {"field": "conversation.hours_in_status", "op": "gte", "value": 72}]},
        actions=[{"type": "send_reply", "template_id": reminder}])
    automation(api, name="Close", kind="time", conditions={"all": [
        pending, {"field": "conversation.hours_in_status", "op": "gte", "value": 168}]},
        actions=[{"type": "set_status", "value": "solved"}])
    channel = make_api_channel(admin, webhook_url=receiver.url)
    start = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        conversation = inbound(channel, "My parcel is late", 1)
        run_jobs()
        ok(api.patch(f"/api/v1/conversations/{conversation.pk}", {"status": "pending"},
                     content_type="application/json"))
        run_jobs()

        def scheduler_at(moment: dt.datetime) -> None:
            clock.move_to(moment)
            tick()  # the periodic scheduler enqueues run_time_rules_task, the worker runs it
            run_jobs()

        scheduler_at(start + dt.timedelta(days=2))
        assert runs(api, conversation) == []
        scheduler_at(start + dt.timedelta(days=3, hours=1))
        scheduler_at(start + dt.timedelta(days=3, hours=2))  # runs again: the reminder is not sent twice
        reminders = Message.objects.filter(conversation=conversation, author_kind=AuthorKind.SYSTEM)
        assert reminders.count() == 1 and reminders.get().text == "Hi Dana, do you still need help?"
        scheduler_at(start + dt.timedelta(days=7, hours=1))
        conversation.refresh_from_db()
        assert conversation.status == "solved"
        assert sorted(r["outcome"] for r in runs(api, conversation)) == ["done", "done"]


def test_two_rules_that_undo_each_other_stop_instead_of_looping(api, admin, run_jobs):
    up = automation(api, name="high to urgent", events=["conversation.updated"],
                    conditions={"all": [{"field": "conversation.priority", "op": "eq", "value": "high"}]},
                    actions=[{"type": "set_priority", "value": "urgent"}])
    down = automation(api, name="urgent to high", events=["conversation.updated"],
                      conditions={"all": [{"field": "conversation.priority", "op": "eq", "value": "urgent"}]},
                      actions=[{"type": "set_priority", "value": "high"}])
    channel = make_api_channel(admin)
    conversation = inbound(channel, "Hello", 1)
    run_jobs()
    ok(api.patch(f"/api/v1/conversations/{conversation.pk}", {"priority": "high"}, content_type="application/json"))
    assert run_jobs() < 200  # terminates
    log = sorted((r["automation_id"], r["outcome"], r["depth"]) for r in runs(api, conversation))
    # the agent's change runs both (the second reacting to the first); the two changes they publish would
    # start them again, but each of those events carries both rules in its causal chain
    assert log == sorted([(up["id"], "done", 0), (down["id"], "done", 0), (up["id"], "loop_stopped", 1),
                          (up["id"], "loop_stopped", 1)])
    conversation.refresh_from_db()
    assert conversation.priority == "high"


def test_a_chain_of_different_rules_stops_at_the_maximum_depth(api, admin, run_jobs):
    for before, after in (("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")):
        automation(api, name=f"{before} then {after}", events=["conversation.updated"],
                   conditions={"all": [{"field": "changes.tags", "op": "contains", "value": before}]},
                   actions=[{"type": "add_tags", "tags": [after]}])
    conversation = inbound(make_api_channel(admin), "Hello", 1)
    run_jobs()
    ok(api.patch(f"/api/v1/conversations/{conversation.pk}", {"tags": ["a"]}, content_type="application/json"))
    run_jobs()
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["a", "b", "c", "d"]
    stopped = AutomationRun.objects.get(conversation=conversation, automation=None)
    assert (stopped.outcome, stopped.depth) == ("loop_stopped", 3)


def test_a_rule_stops_itself_after_its_daily_cap(api, admin, run_jobs):
    rule = automation(api, name="note every message", events=["message.received"], max_runs_per_day=2,
                      actions=[{"type": "add_tags", "tags": ["seen"]}])
    channel = make_api_channel(admin)
    for n in range(3):
        conversation = inbound(channel, f"message {n}", n)
        run_jobs()
    outcomes = [r["outcome"] for r in reversed(runs(api, conversation))]
    assert outcomes == ["done", "done", "capped"]
    assert all(r["automation_id"] == rule["id"] for r in runs(api, conversation))


def test_dry_run_lists_matches_and_changes_nothing(api, admin, run_jobs):
    channel = make_api_channel(admin)
    hebrew = [inbound(channel, "ההזמנה שלי לא הגיעה", 1, sender="a@example.com"),
              inbound(channel, "שלום, אני לא מצליח להתחבר", 2, sender="b@example.com")]
    inbound(channel, "Where is my order?", 3, sender="c@example.com")
    run_jobs()
    definition = {"events": ["message.received"],
                  "conditions": {"all": [{"field": "conversation.language", "op": "eq", "value": "he"}]},
                  "actions": [{"type": "set_priority", "value": "high"}]}
    result = post(api, "/api/v1/automations/dry-run", definition, status=200)
    assert (result["evaluated"], result["matched"]) == (3, 2)
    assert sorted(c["conversation_id"] for c in result["conversations"]) == sorted(c.pk for c in hebrew)
    assert result["conversations"][0]["actions"] == [{"type": "set_priority", "value": "high"}]
    saved = automation(api, name="saved", **definition)
    assert post(api, f"/api/v1/automations/{saved['id']}/dry-run", {}, status=200)["matched"] == 2
    assert set(Conversation.objects.values_list("priority", flat=True)) == {"normal"}
    assert AutomationRun.objects.count() == 0


def test_out_of_hours_reply_and_outbound_webhook(api, admin, run_jobs, receiver):
    schedule = post(api, "/api/v1/sla/schedules", {
        "name": "Prague", "time_zone": "Europe/Prague",
        "weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}})
    closed = template(api, "Closed", {"en": "We are closed; we answer from 9:00.", "cs": "Máme zavřeno, odpovíme od 9:00."})
    automation(api, name="out of hours", events=["message.received"],
               conditions={"all": [{"field": "business_hours.open", "op": "eq", "value": False,
                                    "schedule_id": schedule["id"]}]},
               actions=[{"type": "send_reply", "template_id": closed},
                        {"type": "webhook", "url": receiver.url + "/automation"}])
    channel = make_api_channel(admin)
    with time_machine.travel(dt.datetime(2026, 6, 1, 22, 0, tzinfo=ZoneInfo("Europe/Prague")), tick=False):
        night = inbound(channel, "Dobrý den, nemůžu se přihlásit", 1)
        run_jobs()
    with time_machine.travel(dt.datetime(2026, 6, 2, 10, 0, tzinfo=ZoneInfo("Europe/Prague")), tick=False):
        day = inbound(channel, "Dobrý den, mám dotaz k ceně", 2, sender="petr@example.com")
        run_jobs()
    auto = Message.objects.get(conversation=night, author_kind=AuthorKind.SYSTEM)
    assert auto.text == "Máme zavřeno, odpovíme od 9:00."  # the Czech variant, by detected language
    assert not Message.objects.filter(conversation=day, author_kind=AuthorKind.SYSTEM).exists()
    hook = next(r for r in receiver.wait_for(1) if r.path == "/inbox/automation")
    assert json.loads(hook.body)["conversation"]["id"] == night.pk


def test_automation_validation_and_permissions(api, admin, client):
    def refused(body):
        response = api.post("/api/v1/automations", {"name": "x", **body}, content_type="application/json")
        return response.status_code, response.json()["code"]

    assert refused({"events": ["message.received"], "actions": [{"type": "set_priority", "value": "soon"}]}) == (
        400, "invalid_action")
    assert refused({"events": [], "actions": [{"type": "unassign"}]}) == (400, "invalid_events")
    assert refused({"events": ["message.received"], "conditions": {"all": [{"field": "nope", "op": "eq"}]},
                    "actions": [{"type": "unassign"}]}) == (400, "invalid_condition")
    assert refused({"events": ["message.received"], "actions": [{"type": "send_reply", "template_id": 4242}]}) == (
        400, "invalid_action")
    assert refused({"kind": "time", "events": ["message.received"], "actions": [{"type": "unassign"}]}) == (
        400, "invalid_events")
    assert api.get("/api/v1/automations/4242").status_code == 404
    light = make_agent(admin, "light@example.com", role="light_agent")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {make_token(light)}"
    response = client.post("/api/v1/automations", {"name": "x", "events": ["message.received"],
                                                   "actions": [{"type": "unassign"}]}, content_type="application/json")
    assert response.status_code == 403
    assert client.get("/api/v1/automations").status_code == 200


def test_notify_renders_a_notification_template_in_the_conversation_language(api, admin, run_jobs):
    from threadline.events.models import OutboxEvent

    note = template(api, "New VIP", {"en": "VIP {{contact.name}} wrote", "cs": "VIP {{contact.name}} napsal"})
    automation(api, name="vip", events=["message.received"],
               conditions={"all": [{"field": "message.text", "op": "contains", "value": "VIP"}]},
               actions=[{"type": "notify", "agent_ids": [admin.pk], "template_id": note}])
    conversation = inbound(make_api_channel(admin), "Dobrý den, jsem VIP zákazník a potřebuji fakturu", 1)
    run_jobs()
    event = OutboxEvent.objects.get(type="automation.notification_requested").payload
    assert event == {**event, "conversation_id": conversation.pk, "recipient_ids": [admin.pk],
                     "text": "VIP Dana Levi napsal"}


def test_an_auto_reply_from_the_customer_never_gets_an_automatic_answer(api, admin, run_jobs):
    ack = template(api, "Ack", {"en": "We got your message."})
    automation(api, name="acknowledge", events=["message.received"], conditions={"all": []},
               actions=[{"type": "add_tags", "tags": ["acked"]}, {"type": "send_reply", "template_id": ack}])
    channel = make_api_channel(admin)
    vacation = inbound(channel, "I am out of office until Monday.", 1, suppress_auto_response=True)
    person = inbound(channel, "Where is my order?", 2, sender="sam@example.com")
    run_jobs()
    assert not Message.objects.filter(conversation=vacation, direction=Direction.OUTBOUND).exists()
    assert [r["performed"] for r in runs(api, vacation)] == [["add_tags"]]  # the rest of the rule still ran
    assert Message.objects.filter(conversation=person, author_kind=AuthorKind.SYSTEM).count() == 1
