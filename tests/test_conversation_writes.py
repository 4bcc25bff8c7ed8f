"""Agents' writes on a conversation: only what changed is written, and reply HTML is sanitized."""

from __future__ import annotations

from django.db import transaction

from threadline.channels.base import InboundMessage
from threadline.conversations.actions import do_send_reply, do_update_conversation, receive_inbound_message
from threadline.conversations.models import Conversation, Priority, Status
from threadline.testing.factories import make_api_channel


def conversation_for(admin):
    channel = make_api_channel(admin, webhook_url="http://127.0.0.1:9/none")
    with transaction.atomic():
        return receive_inbound_message(
            channel, InboundMessage(provider_message_id="m1", sender_kind="email", sender_address="a@example.com",
                                    text="hi")
        ).conversation


def test_an_update_does_not_undo_a_concurrent_change_to_another_field(admin):
    conversation = conversation_for(admin)
    stale = Conversation.objects.get(pk=conversation.pk)
    Conversation.objects.filter(pk=conversation.pk).update(priority=Priority.URGENT)  # someone else, meanwhile
    with transaction.atomic():
        do_update_conversation(admin, stale, status=Status.PENDING)
    fresh = Conversation.objects.get(pk=conversation.pk)
    assert (fresh.status, fresh.priority) == (Status.PENDING, Priority.URGENT)


def test_a_no_op_update_writes_nothing(admin):
    conversation = conversation_for(admin)
    before = Conversation.objects.get(pk=conversation.pk).updated_at
    with transaction.atomic():
        do_update_conversation(admin, conversation, status=conversation.status, tags=[])
    assert Conversation.objects.get(pk=conversation.pk).updated_at == before
    assert not conversation.events.filter(kind="status_changed").exists()


def test_reply_html_is_sanitized_before_it_is_stored(admin):
    conversation = conversation_for(admin)
    with transaction.atomic():
        message = do_send_reply(
            admin, conversation, "Thanks!",
            html='<p onclick="steal()">Thanks! <a href="javascript:alert(1)">here</a><script>x()</script></p>',
        )
    assert "script" not in message.html
    assert "onclick" not in message.html
    assert "javascript:" not in message.html
    assert message.html.startswith("<p>Thanks!")


def test_a_provider_id_used_twice_still_marks_the_reply_sent_and_sends_it_once(admin, run_jobs):
    from threadline.conversations.models import Message
    from threadline.testing.receiver import Receiver

    receiver = Receiver(answer=b'{"message_id": "same-id"}').start()
    try:
        channel = make_api_channel(admin, webhook_url=receiver.url)
        with transaction.atomic():
            conversation = receive_inbound_message(channel, InboundMessage(
                provider_message_id="in-1", sender_kind="email", sender_address="r@example.com", text="hi",
            )).conversation
            do_send_reply(admin, conversation, "first answer")
            do_send_reply(admin, conversation, "second answer")
        run_jobs()
        sent = list(Message.objects.filter(direction="out").order_by("id"))
        assert [m.status for m in sent] == ["sent", "sent"]
        assert sent[0].provider_message_id == "same-id"
        assert sent[1].metadata["provider_message_id_reused"] == "same-id"
        assert len(receiver.requests) == 2  # each reply delivered once: no failed job, no retry
    finally:
        receiver.stop()
