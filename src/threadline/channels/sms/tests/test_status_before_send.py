"""Twilio can call back with a message's status before the send job has recorded the id its API answered (the
callback and the worker's write race). That status is tried again, never dropped; a status of a message sent
elsewhere is accepted as unknown at once when no send of ours is in flight."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from threadline.channels.inbound import process_inbound_event_task
from threadline.channels.models import Delivery, InboundEvent
from threadline.channels.sms.adapter import SmsAdapter
from threadline.channels.sms.tests.helpers import ACCOUNT_SID, fixture, make_twilio_channel, twilio_post
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.jobs.registry import Retry

SID = "c" * 32


def _send_route(provider) -> None:
    provider.route("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", 201,
                   fixture("send_response.json", sid=SID).encode())


def _conversation(client, run_jobs, channel) -> Conversation:
    twilio_post(client, channel, fixture("inbound_text.form"))
    run_jobs()
    return Conversation.objects.get()


def test_a_delivered_callback_that_overtakes_the_send_is_applied_after_it(client, admin, run_jobs, provider,
                                                                          monkeypatch):
    _send_route(provider)
    channel = make_twilio_channel(admin, api_base_url=provider.url)
    conversation = _conversation(client, run_jobs, channel)
    real_send = SmsAdapter.send
    tried: list[str] = []

    def send_then_twilio_calls_back(self, message, on_channel):
        result = real_send(self, message, on_channel)  # Twilio answered with the sid …
        twilio_post(client, channel, fixture("status_delivered.form", sid=SID))  # … and called back at once
        event = InboundEvent.objects.latest("pk")
        with pytest.raises(Retry):  # processed before the job below records the sid: tried again later
            process_inbound_event_task(event.pk)
        event.refresh_from_db()
        tried.append(event.state)
        return result

    monkeypatch.setattr(SmsAdapter, "send", send_then_twilio_calls_back)
    with transaction.atomic():
        reply = do_send_reply(admin, conversation, "Your parcel ships today")
    run_jobs()  # the send records the sid, then the callback's job runs again

    assert tried == ["received"]
    reply = Message.objects.get(pk=reply.pk)
    assert (reply.provider_message_id, reply.status) == ("SM" + SID, "delivered")
    assert InboundEvent.objects.latest("pk").state == "processed"


def test_a_status_of_a_message_sent_elsewhere_is_accepted_when_no_send_is_in_flight(client, admin, run_jobs,
                                                                                     provider):
    _send_route(provider)
    channel = make_twilio_channel(admin, api_base_url=provider.url)
    conversation = _conversation(client, run_jobs, channel)
    with transaction.atomic():
        reply = do_send_reply(admin, conversation, "queued, not begun")  # pending, no attempt yet
    twilio_post(client, channel, fixture("status_delivered.form", sid="d" * 32))
    event = InboundEvent.objects.latest("pk")
    process_inbound_event_task(event.pk)  # nothing in flight: no Retry
    event.refresh_from_db()
    assert event.state == "processed"

    # a send that began after the status arrived cannot be the one it names
    Delivery.objects.filter(message=reply).update(attempts=1, updated_at=event.created_at + dt.timedelta(seconds=5))
    twilio_post(client, channel, fixture("status_delivered.form", sid="e" * 32))
    later = InboundEvent.objects.latest("pk")
    InboundEvent.objects.filter(pk=later.pk).update(created_at=event.created_at)
    process_inbound_event_task(later.pk)
    later.refresh_from_db()
    assert later.state == "processed"
