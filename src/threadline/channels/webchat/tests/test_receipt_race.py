"""A reply reaches the widget inside its send job, before the job records `sent`; the widget answers `read` at
once. That receipt must hold: CI's PostgreSQL run lost it (the agent never saw "read") when the receipt found the
reply still `queued` without its provider id, and the job's `sent` came after it."""

from __future__ import annotations

from django.db import transaction

from threadline.channels.webchat.actions import do_record_receipt
from threadline.channels.webchat.adapter import WebchatAdapter
from threadline.channels.webchat.models import Visitor
from threadline.channels.webchat.testkit import Widget, make_webchat_channel
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, DeliveryStatus, Message
from threadline.events.models import OutboxEvent


def statuses_published(message_id: int) -> list[str]:
    rows = OutboxEvent.objects.filter(type="message.status_changed").order_by("pk")
    return [row.payload["status"] for row in rows if row.payload["message_id"] == message_id]


def test_a_read_receipt_that_comes_before_the_send_job_records_sent_is_kept(client, admin, run_jobs, monkeypatch):
    channel = make_webchat_channel(admin)
    widget = Widget(client, channel).start()
    widget.say("Where is my order?", "c-1")
    run_jobs()
    visitor = Visitor.objects.get()
    real_send = WebchatAdapter.send

    def send_then_the_widget_reads_it(self, message, on_channel):
        result = real_send(self, message, on_channel)  # the reply is on the visitor's socket now
        with transaction.atomic():
            assert do_record_receipt(channel, visitor, status="read", up_to=message.message_id) == 1
        return result

    monkeypatch.setattr(WebchatAdapter, "send", send_then_the_widget_reads_it)
    with transaction.atomic():
        reply = do_send_reply(admin, Conversation.objects.get(), "It left the warehouse today.")
    run_jobs()

    reply = Message.objects.get(pk=reply.pk)
    assert reply.status == DeliveryStatus.READ
    assert reply.provider_message_id == f"webchat-{reply.pk}" and reply.sent_at is not None
    assert statuses_published(reply.pk)[-1] == "read"  # the agent's screen ends on "read", not "sent"


def test_a_queued_reply_whose_send_has_not_begun_is_not_marked_read(client, admin):
    channel = make_webchat_channel(admin)
    widget = Widget(client, channel).start()
    widget.say("Hello", "c-1")
    visitor = Visitor.objects.get()
    with transaction.atomic():
        reply = do_send_reply(admin, Conversation.objects.get(), "Hi!")
    with transaction.atomic():
        assert do_record_receipt(channel, visitor, status="read", up_to=reply.pk) == 0
    assert Message.objects.get(pk=reply.pk).status == DeliveryStatus.QUEUED


def test_statuses_only_move_forward_and_failed_wins(client, admin, run_jobs):
    from threadline.channels.base import DeliveryStatusUpdate
    from threadline.conversations.actions import do_record_delivery_status

    channel = make_webchat_channel(admin)
    Widget(client, channel).start().say("Hello", "c-1")
    with transaction.atomic():
        reply = do_send_reply(admin, Conversation.objects.get(), "Hi!")
    run_jobs()
    provider_id = Message.objects.get(pk=reply.pk).provider_message_id
    for status, expected in (("read", "read"), ("delivered", "read"), ("sent", "read"), ("failed", "failed"),
                             ("read", "failed")):
        with transaction.atomic():
            do_record_delivery_status(channel, DeliveryStatusUpdate(provider_id, status, reason="bounced"))
        assert Message.objects.get(pk=reply.pk).status == expected, status
    assert Message.objects.get(pk=reply.pk).status_reason == "bounced"
