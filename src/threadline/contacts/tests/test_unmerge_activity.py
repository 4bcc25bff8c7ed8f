"""Unmerge after the customer (or an agent) was active while the two contacts were merged.

The rule (docs/identity.md, Unmerge): every message goes back with the identity it came from or was sent to; a
conversation that, after the unmerge, holds the other contact's messages is split (those messages move to a
new conversation of the contact whose identity they came from, linked by `previous`), or handed over whole
when none of its messages is its holder's; what cannot be attributed (a note written while both were one) stays
and the conversation is flagged `unmerge_review` on its timeline for an agent to check.
"""

from __future__ import annotations

import pytest

from threadline.channels.actions import do_create_channel
from threadline.contacts.merge import do_merge_contacts, do_unmerge_contacts
from threadline.contacts.tests.builders import atomic, inbound
from threadline.conversations.actions import do_add_note, do_send_reply, do_update_conversation, reply_target
from threadline.conversations.models import Conversation, ConversationEvent, Message, Status
from threadline.conversations.reachability import reachable_channels
from threadline.events.models import OutboxEvent
from threadline.testing.factories import make_api_channel
from threadline.web.queries import describe_event


@pytest.fixture
def channels(admin):
    app = make_api_channel(admin)
    mail = atomic(do_create_channel, admin, "api", "Mail gateway", {"secret": "m" * 32, "webhook_url": ""})
    return app, mail


def test_a_conversation_that_mixed_both_sides_is_split_and_replies_go_to_the_right_person(admin, channels):
    app, mail = channels
    # Tomer writes on Telegram through the app; Sara, a different person, by email through the mail gateway.
    tomer_hello = inbound(app, "telegram", "5550001", name="Tomer Cohen", text="my parcel is late")
    tomer = tomer_hello.author_contact
    sara_first = inbound(mail, "email", "sara@example.com", name="Sara Cohen", text="refund please")
    sara = sara_first.author_contact
    atomic(do_update_conversation, admin, sara_first.conversation, status="solved")
    shared = tomer_hello.conversation

    merge = atomic(do_merge_contacts, admin, sara, tomer)  # a wrong merge: same family name
    # While merged, Sara's email lands in Tomer's open conversation, an agent answers it (to Sara's address)
    # and writes a note; then Tomer writes again.
    sara_during = inbound(mail, "email", "sara@example.com", text="any news on my refund?")
    assert sara_during.conversation_id == shared.pk
    answer = atomic(do_send_reply, admin, shared, "Refund sent today.", channel=mail)
    assert answer.identity_id == sara_during.identity_id
    note = atomic(do_add_note, admin, shared, "customer is upset")
    tomer_during = inbound(app, "telegram", "5550001", text="still nothing")

    atomic(do_unmerge_contacts, admin, merge)

    shared.refresh_from_db()
    assert shared.contact_id == tomer.pk
    assert set(shared.messages.values_list("pk", flat=True)) == {tomer_hello.pk, note.pk, tomer_during.pk}
    [split] = Conversation.objects.filter(previous=shared, contact=sara)
    assert set(split.messages.values_list("pk", flat=True)) == {sara_during.pk, answer.pk}
    assert Message.objects.get(pk=sara_during.pk).author_contact_id == sara.pk
    assert (split.status, split.origin_channel_id, split.last_inbound_channel_id) == (Status.OPEN, mail.pk, mail.pk)
    # The default reply of each conversation goes to its own contact.
    assert shared.last_inbound_channel_id == app.pk
    channel, identity = reply_target(shared, None)
    assert (channel.pk, identity.contact_id, identity.address) == (app.pk, tomer.pk, "5550001")
    channel, identity = reply_target(split, None)
    assert (channel.pk, identity.contact_id, identity.address) == (mail.pk, sara.pk, "sara@example.com")
    assert reachable_channels(shared)[0].address == "5550001"
    # The timeline says what moved where, and flags the note nobody can attribute.
    out = ConversationEvent.objects.get(conversation=shared, kind="unmerge_split_out")
    assert out.data["into"] == split.pk and sorted(out.data["message_ids"]) == sorted([sara_during.pk, answer.pk])
    created = ConversationEvent.objects.get(conversation=split, kind="created")
    assert created.data["unmerged_from"] == shared.pk and created.data["merge_id"] == merge.pk
    review = ConversationEvent.objects.get(conversation=shared, kind="unmerge_review")
    assert review.data["message_ids"] == [note.pk] and review.data["merge_id"] == merge.pk
    assert "could not be attributed" in describe_event(review, {}, {})  # what the agent reads on the timeline
    assert f"#{split.pk}" in describe_event(out, {}, {})
    assert OutboxEvent.objects.filter(type="conversation.created", payload__conversation_id=split.pk).exists()


def test_a_conversation_started_during_the_merge_by_the_other_side_goes_back_whole(admin, channels):
    app, mail = channels
    admin.workspace.reopen_window_days = 0
    admin.workspace.save()
    tomer_hello = inbound(app, "telegram", "5550001", name="Tomer Cohen")
    tomer = tomer_hello.author_contact
    atomic(do_update_conversation, admin, tomer_hello.conversation, status="solved")
    sara = inbound(mail, "email", "sara@example.com", name="Sara Cohen").author_contact
    atomic(do_update_conversation, admin, Conversation.objects.get(contact=sara), status="solved")

    merge = atomic(do_merge_contacts, admin, sara, tomer)
    sara_during = inbound(mail, "email", "sara@example.com", text="a new question")
    started = sara_during.conversation
    assert started.contact_id == tomer.pk  # opened for the merged contact
    answer = atomic(do_send_reply, admin, started, "Here is the answer.")

    atomic(do_unmerge_contacts, admin, merge)

    started.refresh_from_db()
    assert started.contact_id == sara.pk  # nothing in it was Tomer's: handed back whole, no split
    assert set(started.messages.values_list("pk", flat=True)) == {sara_during.pk, answer.pk}
    assert not Conversation.objects.filter(previous=started).exists()
    assert not ConversationEvent.objects.filter(kind="unmerge_review").exists()
    assert ConversationEvent.objects.filter(conversation=started, kind="contact_unmerged").exists()
    channel, identity = reply_target(started, None)
    assert identity.contact_id == sara.pk


def test_the_other_sides_message_in_a_conversation_that_returns_to_the_source_is_split_out(admin, channels):
    app, mail = channels
    tomer_hello = inbound(app, "telegram", "5550001", name="Tomer Cohen")
    tomer = tomer_hello.author_contact
    atomic(do_update_conversation, admin, tomer_hello.conversation, status="solved")
    sara_open = inbound(mail, "email", "sara@example.com", name="Sara Cohen", text="refund please").conversation
    sara = sara_open.contact

    merge = atomic(do_merge_contacts, admin, sara, tomer)
    tomer_during = inbound(app, "telegram", "5550001", text="where is my parcel?")
    assert tomer_during.conversation_id == sara_open.pk  # the merged contact's open conversation

    atomic(do_unmerge_contacts, admin, merge)

    sara_open.refresh_from_db()
    assert sara_open.contact_id == sara.pk  # restored by the snapshot
    assert list(sara_open.messages.values_list("identity__address", flat=True)) == ["sara@example.com"]
    [split] = Conversation.objects.filter(previous=sara_open)
    assert split.contact_id == tomer.pk
    assert list(split.messages.values_list("pk", flat=True)) == [tomer_during.pk]
    assert reply_target(sara_open, None)[1].address == "sara@example.com"
    assert (sara_open.last_inbound_channel_id, split.last_inbound_channel_id) == (mail.pk, app.pk)
    assert not ConversationEvent.objects.filter(kind="unmerge_review").exists()  # nothing left undecided
