"""Who wrote: inbound senders resolve to contacts, auto-linked only on attested identifiers."""

from __future__ import annotations

from threadline.contacts.models import Contact, ContactIdentity, MergeSuggestion
from threadline.contacts.tests.builders import inbound
from threadline.events.models import OutboxEvent
from threadline.testing.factories import make_api_channel


def test_the_same_address_in_another_form_is_the_same_contact(admin):
    channel = make_api_channel(admin)  # workspace region IL
    first = inbound(channel, "email", "Dana.Levi@Example.COM", name="Dana Levi")
    second = inbound(channel, "email", "dana.levi@example.com")
    by_phone = inbound(channel, "phone", "052-555-1234")
    again = inbound(channel, "phone", "+972 52 555 1234")
    assert second.author_contact_id == first.author_contact_id
    assert again.author_contact_id == by_phone.author_contact_id
    assert Contact.objects.count() == 2
    assert set(ContactIdentity.objects.values_list("kind", "address")) == {
        ("email", "dana.levi@example.com"), ("phone", "+972525551234")}


def test_a_phone_number_seen_on_whatsapp_links_to_the_sms_contact(admin):
    channel = make_api_channel(admin)
    sms = inbound(channel, "phone", "052-555-1234", name="Noa")
    whatsapp = inbound(channel, "whatsapp", "972525551234", name="Noa K")
    assert whatsapp.author_contact_id == sms.author_contact_id
    assert whatsapp.conversation_id == sms.conversation_id  # the open conversation continues across channels
    identity = ContactIdentity.objects.get(kind="whatsapp")
    assert (identity.address, identity.contact_id) == ("+972525551234", sms.author_contact_id)
    linked = OutboxEvent.objects.filter(type="contact.identity_linked", payload__identity_id=identity.pk).get()
    assert linked.payload["reason"] == "same phone number as phone identity"
    assert Contact.objects.count() == 1
    assert MergeSuggestion.objects.count() == 0


def test_unattested_likeness_is_only_a_suggestion(admin):
    channel = make_api_channel(admin)
    by_email = inbound(channel, "email", "dana.levi@shop.co.il", name="Dana Levi")
    by_telegram = inbound(channel, "telegram", "5512345", name="Dana Levi")
    assert by_email.author_contact_id != by_telegram.author_contact_id
    assert by_email.conversation_id != by_telegram.conversation_id
    suggestion = MergeSuggestion.objects.get()
    assert (suggestion.contact_id, suggestion.candidate_id) == (by_telegram.author_contact_id,
                                                                by_email.author_contact_id)
    assert suggestion.state == "open"


def test_a_verified_sighting_marks_the_identity_verified(admin):
    channel = make_api_channel(admin)
    inbound(channel, "email", "noa@example.com")
    assert not ContactIdentity.objects.get().verified
    inbound(channel, "email", "NOA@example.com", sender_verified=True)
    assert ContactIdentity.objects.get().verified


def test_identities_are_scoped_to_their_workspace(admin):
    from threadline.testing.factories import make_workspace

    other = make_workspace("Other Co")
    mine = inbound(make_api_channel(admin), "email", "dana@example.com", name="Dana Levi")
    theirs = inbound(make_api_channel(other), "email", "dana@example.com", name="Dana Levi")
    assert mine.author_contact_id != theirs.author_contact_id
    assert MergeSuggestion.objects.count() == 0  # never across workspaces
