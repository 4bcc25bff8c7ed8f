"""Agents' replies are sent together (issue 11): a worker claims the ready delivery jobs at once and sends them
concurrently, those of one conversation one after the other and in order, and writes their outcomes in one
transaction. A reply whose conversation has an earlier reply still being sent elsewhere waits for it."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import transaction

from threadline.channels.base import InboundMessage
from threadline.channels.fake_provider import Call, FakeProvider
from threadline.channels.models import Delivery
from threadline.conversations.actions import do_send_reply, receive_inbound_message
from threadline.conversations.models import DeliveryStatus, Message
from threadline.core.time import now
from threadline.jobs.models import Job
from threadline.testing import factories

HOOK = "/hooks/replies"


@pytest.fixture
def provider():
    fake = FakeProvider().start()
    yield fake
    fake.stop()


def conversations(admin, provider, count: int) -> list:
    channel = factories.make_api_channel(admin, webhook_url=provider.url + HOOK)
    found = []
    with transaction.atomic():
        for number in range(count):
            found.append(receive_inbound_message(channel, InboundMessage(
                provider_message_id=f"in-{number}", sender_kind="email", sender_address=f"c{number}@example.com",
                sender_name=f"Customer {number}", text=f"Where is order {number}?")).conversation)
    return found


def sent(provider) -> list[dict]:
    return [call.json() for call in provider.calls("POST", HOOK)]


@pytest.mark.django_db(transaction=True)  # the sends run on other threads: they read committed rows
def test_replies_of_two_conversations_are_in_flight_together_and_each_conversation_keeps_its_order(
        admin, run_jobs, provider):
    both_in_flight = threading.Barrier(2, timeout=20)
    first_seen: set[int] = set()

    def answer(call: Call) -> tuple[int, bytes, dict[str, str]]:
        body = call.json()
        if body["conversation_id"] not in first_seen:
            first_seen.add(body["conversation_id"])
            try:  # the first reply of each conversation waits here for the other's: sent one by one, it fails
                both_in_flight.wait()
            except threading.BrokenBarrierError:
                return 503, b"{}", {}
        return 200, json.dumps({"message_id": f"p-{body['message_id']}"}).encode(), {"Content-Type": "application/json"}

    provider.handle("POST", HOOK, answer)
    one, two = conversations(admin, provider, 2)
    with transaction.atomic():
        replies = [do_send_reply(admin, conversation, f"Answer {n} to {conversation.pk}")
                   for n in range(3) for conversation in (one, two)]

    run_jobs()

    calls = sent(provider)
    assert sorted(c["message_id"] for c in calls) == sorted(r.pk for r in replies)  # each once
    for conversation in (one, two):
        order = [c["message_id"] for c in calls if c["conversation_id"] == conversation.pk]
        assert order == sorted(order) and len(order) == 3
    stored = {m.pk: m for m in Message.objects.filter(pk__in=[r.pk for r in replies])}
    assert {(m.status, m.provider_message_id) for m in stored.values()} == {
        (DeliveryStatus.SENT, f"p-{pk}") for pk in stored}
    assert set(Delivery.objects.filter(message__in=replies).values_list("state", "attempts")) == {("sent", 1)}
    jobs = Job.objects.filter(task__endswith="deliver_message_task")
    assert set(jobs.values_list("state", "attempts")) == {("done", 1)}


def test_a_reply_waits_for_an_earlier_reply_of_its_conversation_that_another_worker_is_sending(
        admin, run_jobs, provider):
    provider.route("POST", HOOK, 200, {"message_id": "p-x"})
    (conversation,) = conversations(admin, provider, 1)
    with transaction.atomic():
        earlier = do_send_reply(admin, conversation, "First answer")
        later = do_send_reply(admin, conversation, "Second answer")
    deliver_jobs = Job.objects.filter(task__endswith="deliver_message_task")
    # another worker holds the earlier reply's job: claimed, its lease running
    deliver_jobs.filter(args=[earlier.pk]).update(state=Job.State.RUNNING, locked_by="elsewhere:1:1",
                                                 lease_until=now() + dt.timedelta(minutes=5))

    run_jobs()

    assert sent(provider) == []  # not sent ahead of the earlier one
    job = deliver_jobs.get(args=[later.pk])
    assert (job.state, job.attempts) == (Job.State.QUEUED, 0) and job.run_after > now()  # postponed, uncounted
    assert Delivery.objects.get(message=later).attempts == 0

    # the other worker sends the earlier one; then the later one goes
    deliver_jobs.filter(args=[earlier.pk]).update(state=Job.State.QUEUED, locked_by="", lease_until=None)
    deliver_jobs.filter(args=[later.pk]).update(run_after=now())
    run_jobs()
    assert [c["message_id"] for c in sent(provider)] == [earlier.pk, later.pk]


def test_a_channel_that_answers_too_many_is_not_asked_again_by_the_batch(admin, run_jobs, provider):
    provider.route("POST", HOOK, 429, {}, headers={"Retry-After": "120"})
    (conversation,) = conversations(admin, provider, 1)
    with transaction.atomic():
        replies = [do_send_reply(admin, conversation, f"Answer {n}") for n in range(3)]

    run_jobs()

    assert [c["message_id"] for c in sent(provider)] == [replies[0].pk]  # the others were not asked for
    for job in Job.objects.filter(task__endswith="deliver_message_task"):
        assert job.state == Job.State.QUEUED and job.attempts == 1
        assert job.run_after >= now() + dt.timedelta(seconds=100)  # the provider's Retry-After, not a backoff
    assert set(Message.objects.filter(pk__in=[r.pk for r in replies]).values_list("status", flat=True)) == {
        DeliveryStatus.QUEUED}
    assert all(d.next_attempt_at is not None for d in Delivery.objects.filter(message__in=replies))
