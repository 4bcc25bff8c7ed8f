"""Facts kept up to date from the event stream: real webhooks and replies mark conversations stale (no job of
their own), the refresh task recomputes them, and a rebuild from scratch gives the same facts."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.forms.models import model_to_dict

from threadline.analytics import refresh
from threadline.analytics.facts import recompute_day as facts_recompute_day
from threadline.analytics.models import (
    AgentDayFact,
    BotOutcome,
    ChannelDayFact,
    ConversationFact,
    DayRollup,
    StaleConversation,
    StaleDay,
)
from threadline.analytics.refresh import rebuild
from threadline.analytics.subscribers import on_event
from threadline.analytics.tasks import refresh_facts_task
from threadline.conversations.actions import do_merge_conversations
from threadline.conversations.models import Conversation
from threadline.jobs.models import Job
from threadline.testing.factories import make_api_channel, signed_body

pytestmark = pytest.mark.django_db


def post(client, channel, n: int, sender: str) -> None:
    body, headers = signed_body(channel, {"message_id": f"an-{n}", "text": f"Where is order {n}?",
                                          "sender": {"kind": "email", "address": sender, "verified": True}})
    assert client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json",
                       **headers).status_code == 202


def snapshot(workspace_id: int) -> list[dict]:
    rows = []
    for fact in ConversationFact.objects.filter(workspace_id=workspace_id).order_by("pk"):
        row = model_to_dict(fact)
        row.pop("computed_at")
        rows.append(row)
    for rollup in DayRollup.objects.filter(workspace_id=workspace_id).order_by("grain", "dimension", "value", "day"):
        row = model_to_dict(rollup)
        row.pop("id")
        rows.append(row)
    return rows


def test_inbound_and_replies_reach_the_facts_through_the_refresh(client, api, admin, run_jobs):
    channel = make_api_channel(admin)
    post(client, channel, 1, "ann@example.com")
    post(client, channel, 2, "ann@example.com")
    post(client, channel, 3, "bob@example.com")
    run_jobs(1000)
    assert not Job.objects.filter(task="threadline.analytics.tasks.refresh_facts_task").exists()
    assert StaleConversation.objects.count() == 2
    assert not ConversationFact.objects.exists()
    assert refresh_facts_task.func() == 2
    assert not StaleConversation.objects.exists()
    ann = Conversation.objects.get(contact__identities__address="ann@example.com")
    fact = ConversationFact.objects.get(pk=ann.pk)
    assert (fact.messages_contact, fact.messages_agent, fact.channels_used, fact.first_response_at) == (
        2, 0, [channel.pk], None)
    answer = api.post(f"/api/v1/conversations/{ann.pk}/messages", json.dumps({"text": "On its way"}),
                      content_type="application/json")
    assert answer.status_code == 201, answer.content
    api.patch(f"/api/v1/conversations/{ann.pk}", json.dumps({"status": "solved"}), content_type="application/json")
    run_jobs(1000)
    assert refresh_facts_task.func() == 1
    fact.refresh_from_db()
    assert (fact.messages_agent, fact.first_responder_id, fact.resolutions, fact.is_active) == (1, admin.pk, 1, False)
    assert AgentDayFact.objects.get(agent_id=admin.pk).replies == 1
    assert AgentDayFact.objects.get(agent_id=admin.pk).resolutions == 1
    day = ChannelDayFact.objects.get(channel_id=channel.pk)
    assert (day.new_conversations, day.inbound, day.unique_contacts) == (2, 3, 2)
    everyone = DayRollup.objects.get(grain="d", dimension="", value="")  # the refresh kept the rollups
    assert (everyone.conversations, everyone.counts, sum(everyone.first_response.values())) == (
        2, {"resolved": 1, "first_contact": 1}, 1)
    month = DayRollup.objects.get(grain="m", dimension="channel", value=str(channel.pk))
    assert (month.conversations, month.counts) == (2, {"resolved": 1, "first_contact": 1})
    before = snapshot(admin.workspace_id)
    rebuild(admin.workspace_id)
    assert snapshot(admin.workspace_id) == before


def test_an_event_applied_twice_or_late_changes_nothing(admin, run_jobs, client):
    channel = make_api_channel(admin)
    post(client, channel, 1, "ann@example.com")
    run_jobs(1000)
    conversation = Conversation.objects.get()
    payload = {"workspace_id": admin.workspace_id, "conversation_id": conversation.pk}
    with transaction.atomic():
        on_event("bot.handed_over", payload, 50)
        on_event("bot.resolved", payload, 40)  # an older event retried late
        on_event("bot.handed_over", payload, 50)
    assert BotOutcome.objects.get().outcome == "handed_over"
    assert StaleConversation.objects.count() == 1
    refresh_facts_task.func()
    refresh_facts_task.func()
    assert ConversationFact.objects.get().bot_outcome == "handed_over"


def test_a_merged_conversation_leaves_the_facts(admin, run_jobs, client):
    channel = make_api_channel(admin)
    post(client, channel, 1, "ann@example.com")
    post(client, channel, 2, "bob@example.com")
    run_jobs(1000)
    refresh_facts_task.func()
    source, target = Conversation.objects.order_by("pk")
    with transaction.atomic():
        do_merge_conversations(admin, source, target)
    run_jobs(1000)
    refresh_facts_task.func()
    assert list(ConversationFact.objects.values_list("pk", "messages_contact")) == [(target.pk, 2)]
    assert DayRollup.objects.get(grain="d", dimension="").conversations == 1  # the merged-away one left it


def test_the_refresh_commits_a_few_conversations_at_a_time_and_a_stop_between_loses_no_day(
        admin, run_jobs, client, monkeypatch):
    """Issue 11: one transaction for a minute's conversations held SQLite's write turn for 130-350 ms, and every
    acknowledgement waited behind it. Now CHUNK conversations per transaction, then a day per transaction; the
    days a chunk made stale are marked in its transaction, so a refresh stopped before the days (here: it
    fails on the first) leaves them marked, and the next refresh recomputes them."""
    channel = make_api_channel(admin)
    for n in range(5):
        post(client, channel, n, f"c{n}@example.com")
    run_jobs(1000)
    monkeypatch.setattr(refresh, "CHUNK", 2)
    chunks: list[int] = []
    recompute = refresh.recompute_conversations
    monkeypatch.setattr(refresh, "recompute_conversations", lambda ids: (
        chunks.append(len(ids := list(ids))) or recompute(ids)))

    def stopped(*args: object) -> None:
        raise RuntimeError("the refresh stopped here")

    monkeypatch.setattr(refresh, "recompute_day", stopped)
    with pytest.raises(RuntimeError):
        refresh.refresh_stale()
    assert chunks == [2, 2, 1]
    assert not StaleConversation.objects.exists()  # every chunk committed, with the days it made stale
    assert ConversationFact.objects.filter(workspace_id=admin.workspace_id).count() == 5
    assert set(StaleDay.objects.values_list("kind", flat=True)) == {StaleDay.ACTIVITY, StaleDay.ROLLUP}
    assert not ChannelDayFact.objects.exists()
    assert not DayRollup.objects.exists()
    monkeypatch.setattr(refresh, "recompute_day", facts_recompute_day)
    assert refresh.refresh_stale() == 0  # no conversation left, but the days marked
    day = ChannelDayFact.objects.get(channel_id=channel.pk)
    assert (day.new_conversations, day.inbound, day.unique_contacts) == (5, 5, 5)
    assert {(row.grain, row.conversations) for row in DayRollup.objects.filter(dimension="")} == {("d", 5), ("m", 5)}
    assert not StaleDay.objects.exists()


def test_a_day_marked_again_while_it_was_recomputed_stays_marked(admin, run_jobs, client, monkeypatch):
    channel = make_api_channel(admin)
    post(client, channel, 1, "ann@example.com")
    run_jobs(1000)
    recompute_day = refresh.recompute_day

    def marked_meanwhile(workspace_id: int, day, zone=None) -> None:  # noqa: ANN001
        recompute_day(workspace_id, day, zone)
        refresh.mark_days([(workspace_id, day)], StaleDay.ACTIVITY)  # as a chunk committing meanwhile would

    monkeypatch.setattr(refresh, "recompute_day", marked_meanwhile)
    assert refresh.refresh_stale() == 1
    assert list(StaleDay.objects.values_list("kind", flat=True)) == [StaleDay.ACTIVITY]
