"""Where an inbound message lands, and the reason stored with it (channel-neutral rules)."""

from __future__ import annotations

from django.db import transaction

from threadline.channels.base import InboundMessage
from threadline.conversations.actions import do_update_conversation, receive_inbound_message
from threadline.conversations.models import Conversation, Status
from threadline.testing.factories import make_api_channel


def receive(channel, **fields):
    defaults = {"sender_kind": "email", "sender_address": "noa@example.com", "text": "hello"}
    with transaction.atomic():
        return receive_inbound_message(channel, InboundMessage(**{**defaults, **fields}))


def test_first_message_opens_a_conversation_and_says_why(admin):
    channel = make_api_channel(admin)
    message = receive(channel, provider_message_id="m1")
    assert message.metadata["threading"] == {"rule": "new_conversation", "previous_id": None}


def test_references_thread_a_reply_from_another_sender_into_the_referenced_conversation(admin):
    channel = make_api_channel(admin)
    first = receive(channel, provider_message_id="<a1@example.com>")
    colleague = receive(channel, provider_message_id="<b1@example.org>", sender_address="boss@example.org",
                        references=("<unknown@x>", "<a1@example.com>"))
    assert colleague.conversation_id == first.conversation_id
    assert colleague.metadata["threading"] == {"rule": "references", "matched": "<a1@example.com>"}
    assert colleague.author_contact_id != first.author_contact_id


def test_conversation_hint_wins_and_reopens_a_solved_conversation(admin):
    channel = make_api_channel(admin)
    first = receive(channel, provider_message_id="m1")
    with transaction.atomic():
        do_update_conversation(admin, first.conversation, status=Status.SOLVED)
    again = receive(channel, provider_message_id="m2", sender_address="other@example.com",
                    conversation_hint=first.conversation_id)
    assert again.conversation_id == first.conversation_id
    assert Conversation.objects.get(pk=first.conversation_id).status == Status.OPEN
    assert again.metadata["threading"]["rule"] == "conversation_hint"


def test_a_hint_into_another_workspace_is_ignored(admin):
    from threadline.testing.factories import make_workspace

    other_admin = make_workspace("Other Co")
    other = receive(make_api_channel(other_admin), provider_message_id="x1")
    channel = make_api_channel(admin)
    message = receive(channel, provider_message_id="m1", conversation_hint=other.conversation_id)
    assert message.conversation_id != other.conversation_id
    assert message.metadata["threading"]["rule"] == "new_conversation"


def test_open_conversation_of_the_contact_is_continued(admin):
    channel = make_api_channel(admin)
    first = receive(channel, provider_message_id="m1")
    second = receive(channel, provider_message_id="m2", text="and another thing")
    assert second.conversation_id == first.conversation_id
    assert second.metadata["threading"] == {"rule": "contact_open_conversation", "conversation_id": first.conversation_id}
