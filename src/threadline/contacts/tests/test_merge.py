"""Merging contacts and unmerging them exactly as they were; suggestions accepted and dismissed; who may."""

from __future__ import annotations

from typing import Any

import pytest

from threadline.contacts.actions import do_add_identity, do_update_contact
from threadline.contacts.merge import (
    do_accept_suggestion,
    do_dismiss_suggestion,
    do_merge_contacts,
    do_unmerge_contacts,
)
from threadline.contacts.models import Contact, ContactIdentity, ContactMerge, MergeSuggestion
from threadline.contacts.tests.builders import atomic, inbound
from threadline.conversations.actions import do_update_conversation
from threadline.conversations.models import Conversation, ConversationEvent, Message
from threadline.core.errors import Conflict, PermissionDenied, ValidationFailed
from threadline.events.models import OutboxEvent
from threadline.testing.factories import make_agent, make_api_channel, make_workspace


def row(instance: Any) -> dict[str, Any]:
    """Every stored field of a row but `updated_at` (an unmerge is itself a change)."""
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields if f.name != "updated_at"}


def state(*contacts: Contact) -> dict[str, Any]:
    ids = [c.pk for c in contacts]
    return {
        "contacts": {c.pk: row(c) for c in Contact.objects.filter(pk__in=ids)},
        "identities": {i.pk: row(i) for i in ContactIdentity.objects.filter(contact_id__in=ids)},
        "conversations": {c.pk: row(c) for c in Conversation.objects.filter(contact_id__in=ids)},
        "authors": dict(Message.objects.filter(author_contact_id__in=ids).values_list("pk", "author_contact_id")),
        "suggestions": {s.pk: row(s) for s in MergeSuggestion.objects.all()},
    }


def solve(admin, message):
    atomic(do_update_conversation, admin, message.conversation, status="solved")


@pytest.fixture
def pair(admin):
    """A (email, phone; two solved conversations; no name) and B (telegram; one solved conversation)."""
    workspace = admin.workspace
    workspace.reopen_window_days = 0
    workspace.save()
    channel = make_api_channel(admin)
    first = inbound(channel, "email", "dana.levi@shop.co.il", text="where is my order?")
    source = first.author_contact
    solve(admin, first)
    second = inbound(channel, "email", "dana.levi@shop.co.il", text="and the invoice?")
    solve(admin, second)
    atomic(do_update_contact, source, language="he", attributes={"tier": "gold", "shared": "from-source"},
           consent={"marketing": True})
    atomic(do_add_identity, source, "phone", "052-555-1234", verified=True, actor=admin, strict=True)
    third = inbound(channel, "telegram", "5550001", name="Dana Levi")
    target = third.author_contact
    solve(admin, third)
    atomic(do_update_contact, target, country="IL", time_zone="Asia/Jerusalem", attributes={"shared": "from-target"})
    inbound(channel, "email", "dana.levi@gmail.com", name="D")  # suggested with the source (same local part)
    inbound(channel, "email", "someone.else@example.com", name="Dana Levi")  # suggested with the target
    return channel, source, target


def test_merge_moves_everything_then_unmerge_restores_it_exactly(admin, pair):
    channel, source, target = pair
    [source_suggestion] = MergeSuggestion.objects.filter(candidate=source)
    before = state(source, target)
    source_conversations = sorted(Conversation.objects.filter(contact=source).values_list("pk", flat=True))
    source_messages = set(Message.objects.filter(author_contact=source).values_list("pk", flat=True))
    assert len(source_conversations) == 2 and len(source_messages) == 2

    merge = atomic(do_merge_contacts, admin, source, target)

    source.refresh_from_db()
    target.refresh_from_db()
    assert source.merged_into_id == target.pk
    assert ContactIdentity.objects.filter(contact=source).count() == 0
    assert set(ContactIdentity.objects.filter(contact=target).values_list("kind", "address")) == {
        ("telegram", "5550001"), ("email", "dana.levi@shop.co.il"), ("phone", "+972525551234")}
    assert Conversation.objects.filter(contact=source).count() == 0
    assert set(Message.objects.filter(pk__in=source_messages).values_list("author_contact_id", flat=True)) == {
        target.pk}
    # The target keeps its own values and takes the source's where it had none.
    assert (target.name, target.language, target.country, target.time_zone) == (
        "Dana Levi", "he", "IL", "Asia/Jerusalem")
    assert target.attributes == {"tier": "gold", "shared": "from-target"}
    assert target.consent == {"marketing": True}
    source_suggestion.refresh_from_db()
    assert (source_suggestion.candidate_id, source_suggestion.state) == (target.pk, "open")
    assert sorted(ConversationEvent.objects.filter(kind="contact_merged").values_list(
        "conversation_id", flat=True)) == source_conversations
    assert ConversationEvent.objects.filter(kind="contact_merged").first().data == {
        "merge_id": merge.pk, "source_id": source.pk, "target_id": target.pk}
    assert OutboxEvent.objects.filter(type="contact.merged", payload__merge_id=merge.pk).exists()
    assert merge.snapshot["source"]["before"]["language"] == "he"
    assert merge.snapshot["target"]["before"]["language"] == ""

    # Life goes on after the merge: the customer writes on Telegram (a new conversation of the target), then
    # from the source's email, now verified; an agent adds an identity to the target.
    later = inbound(channel, "telegram", "5550001", text="new question")
    from_email = inbound(channel, "email", "dana.levi@shop.co.il", sender_verified=True, text="same question")
    added = atomic(do_add_identity, target, "email", "dana@new.example", actor=admin)
    assert later.conversation.contact_id == target.pk
    assert from_email.conversation_id == later.conversation_id
    assert ContactIdentity.objects.get(address="dana.levi@shop.co.il").verified

    atomic(do_unmerge_contacts, admin, merge)

    source.refresh_from_db()
    target.refresh_from_db()
    after = state(source, target)
    new_identity = after["identities"].pop(added.pk)
    new_conversation = after["conversations"].pop(later.conversation_id)
    # The email written during the merge went into the target's Telegram conversation: it is split out into
    # a conversation of the source, whose identity wrote it (test_unmerge_activity.py has the whole rule).
    split = Message.objects.get(pk=from_email.pk).conversation
    assert (split.contact_id, split.previous_id) == (source.pk, later.conversation_id)
    assert after["conversations"].pop(split.pk)["contact_id"] == source.pk
    assert after["authors"].pop(later.pk) == target.pk
    assert after["authors"].pop(from_email.pk) == source.pk  # written from a restored identity
    assert after == before
    assert new_identity["contact_id"] == target.pk
    assert new_conversation["contact_id"] == target.pk
    merge.refresh_from_db()
    assert merge.unmerged_at is not None and merge.unmerged_by_id == admin.pk
    assert sorted(ConversationEvent.objects.filter(kind="contact_unmerged").values_list(
        "conversation_id", flat=True)) == source_conversations
    assert OutboxEvent.objects.filter(type="contact.unmerged", payload__merge_id=merge.pk).exists()

    with pytest.raises(Conflict) as caught:
        atomic(do_unmerge_contacts, admin, merge)
    assert caught.value.code == "already_unmerged"


def test_a_target_field_edited_after_the_merge_keeps_its_new_value(admin, pair):
    _channel, source, target = pair
    merge = atomic(do_merge_contacts, admin, source, target)
    target.refresh_from_db()
    atomic(do_update_contact, target, language="en")
    atomic(do_unmerge_contacts, admin, merge)
    target.refresh_from_db()
    source.refresh_from_db()
    assert (target.language, source.language) == ("en", "he")
    assert target.consent == {}  # untouched since the merge: restored


def test_merging_into_itself_across_workspaces_or_twice_is_refused(admin, pair):
    _channel, source, target = pair
    with pytest.raises(ValidationFailed) as caught:
        atomic(do_merge_contacts, admin, source, source)
    assert caught.value.code == "merge_self"

    other_admin = make_workspace("Other Co")
    stranger = inbound(make_api_channel(other_admin), "email", "x.person@example.com").author_contact
    with pytest.raises(ValidationFailed) as caught:
        atomic(do_merge_contacts, admin, stranger, target)
    assert caught.value.code == "merge_workspace"

    atomic(do_merge_contacts, admin, source, target)
    for args in ((source, target), (target, source)):
        with pytest.raises(Conflict) as caught:
            atomic(do_merge_contacts, admin, *args)
        assert caught.value.code == "contact_merged"
    with pytest.raises(Conflict):
        atomic(do_update_contact, Contact.objects.get(pk=source.pk), name="Renamed", actor=admin)


def test_light_agents_may_not_merge_or_unmerge(admin, pair):
    _channel, source, target = pair
    light = make_agent(admin, "light@example.com", role="light_agent")
    with pytest.raises(PermissionDenied):
        atomic(do_merge_contacts, light, source, target)
    merge = atomic(do_merge_contacts, admin, source, target)
    with pytest.raises(PermissionDenied):
        atomic(do_unmerge_contacts, light, merge)
    assert ContactMerge.objects.get().unmerged_at is None


def test_chained_merges_are_undone_newest_first(admin, pair):
    channel, source, target = pair
    third = inbound(channel, "line", "U-third").author_contact
    first = atomic(do_merge_contacts, admin, source, target)
    second = atomic(do_merge_contacts, admin, Contact.objects.get(pk=target.pk), third)
    with pytest.raises(Conflict) as caught:
        atomic(do_unmerge_contacts, admin, first)
    assert caught.value.code == "merge_not_current"
    atomic(do_unmerge_contacts, admin, second)
    atomic(do_unmerge_contacts, admin, ContactMerge.objects.get(pk=first.pk))
    assert set(Contact.objects.filter(pk__in=[source.pk, target.pk, third.pk]).values_list(
        "merged_into", flat=True)) == {None}
    assert ContactIdentity.objects.get(address="dana.levi@shop.co.il").contact_id == source.pk
    assert ContactIdentity.objects.get(address="5550001").contact_id == target.pk


def test_accepting_a_suggestion_merges_the_newer_contact_into_the_existing_one(admin):
    channel = make_api_channel(admin)
    existing = inbound(channel, "email", "dana@acme.example", name="Dana Levi").author_contact
    newer = inbound(channel, "telegram", "777", name="Dana Levi").author_contact
    suggestion = MergeSuggestion.objects.get()
    merge = atomic(do_accept_suggestion, admin, suggestion)
    assert (merge.source_id, merge.target_id) == (newer.pk, existing.pk)
    suggestion.refresh_from_db()
    assert suggestion.state == "accepted"
    with pytest.raises(Conflict) as caught:
        atomic(do_accept_suggestion, admin, suggestion)
    assert caught.value.code == "suggestion_resolved"
    # Undoing the merge is the agent saying they are two people: the pair is not suggested again.
    atomic(do_unmerge_contacts, admin, merge)
    suggestion.refresh_from_db()
    assert suggestion.state == "dismissed"


def test_accepting_with_an_explicit_target_and_dismissing(admin):
    channel = make_api_channel(admin)
    existing = inbound(channel, "email", "dana@acme.example", name="Dana Levi").author_contact
    newer = inbound(channel, "telegram", "777", name="Dana Levi").author_contact
    outsider = inbound(channel, "telegram", "888").author_contact
    suggestion = MergeSuggestion.objects.get()
    with pytest.raises(ValidationFailed):
        atomic(do_accept_suggestion, admin, suggestion, target=outsider)
    merge = atomic(do_accept_suggestion, admin, suggestion, target=newer)
    assert (merge.source_id, merge.target_id) == (existing.pk, newer.pk)

    light = make_agent(admin, "light@example.com", role="light_agent")
    inbound(channel, "line", "U-1", name="Noa Cohen")
    inbound(channel, "line", "U-2", name="Noa Cohen")
    other = MergeSuggestion.objects.get(state="open")
    with pytest.raises(PermissionDenied):
        atomic(do_dismiss_suggestion, light, other)
    atomic(do_dismiss_suggestion, admin, other)
    assert MergeSuggestion.objects.get(pk=other.pk).state == "dismissed"
    assert Contact.objects.filter(merged_into__isnull=False).count() == 1
