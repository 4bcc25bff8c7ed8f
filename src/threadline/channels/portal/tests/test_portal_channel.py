"""The portal channel: a submission goes through the inbound pipeline (stored, committed, processed by the
worker), never links a contact on a typed email, and an agent's reply is mailed with a link into the portal."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.test import Client

from threadline.channels.email.testkit import SmtpSink, make_email_channel
from threadline.channels.models import Channel, InboundEvent
from threadline.contacts.actions import do_add_identity, resolve_sender
from threadline.contacts.models import Contact, IdentityKind, MergeSuggestion
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.core.time import now
from threadline.jobs.models import Job
from threadline.portal.actions import do_submit_request, submit
from threadline.portal.queries import message_of
from threadline.testing.factories import make_workspace
from threadline.testing.mailbox import link_in, wait_for_mail


def submit_request(workspace, **overrides):
    fields = {"workspace": workspace, "email": "Dana.Levi@Example.com", "name": "Dana Levi",
              "subject": "Order 1001", "text": "ההזמנה שלי לא הגיעה", "source": "help_center"}
    with transaction.atomic():
        return do_submit_request(**{**fields, **overrides})


def test_a_request_is_an_inbound_event_first_then_a_portal_message(admin, run_jobs):
    event = submit_request(admin.workspace)
    assert event.state == InboundEvent.State.RECEIVED
    assert message_of(event) is None  # nothing applied before the worker ran
    run_jobs()
    event.refresh_from_db()
    assert event.state == InboundEvent.State.PROCESSED, event.error
    message = message_of(event)
    assert message.channel.kind == "portal"
    assert message.text == "ההזמנה שלי לא הגיעה"
    assert message.metadata["portal"]["source"] == "help_center"
    assert message.conversation.subject == "Order 1001"
    contact = message.conversation.contact
    assert contact.name == "Dana Levi"
    assert contact.attributes["unverified_email"] == "dana.levi@example.com"
    assert list(contact.identities.values_list("kind", "address", "verified")) == [
        ("external", "portal:dana.levi@example.com", False)]
    assert Channel.objects.filter(workspace=admin.workspace, kind="portal").count() == 1


def test_a_typed_email_never_links_an_existing_contact_but_suggests_a_merge(admin, run_jobs):
    with transaction.atomic():
        known = resolve_sender(admin.workspace, "email", "dana.levi@example.com", name="Dana L").contact
    submit_request(admin.workspace)
    run_jobs()
    message = Message.objects.get(channel__kind="portal")
    assert message.conversation.contact_id != known.pk
    suggestion = MergeSuggestion.objects.get(candidate=known)
    assert suggestion.contact_id == message.conversation.contact_id
    assert "same_unverified_email" in [r["code"] for r in suggestion.reasons]


def test_the_same_typed_address_writes_to_the_same_pseudo_contact(admin, run_jobs):
    submit_request(admin.workspace)
    submit_request(admin.workspace, text="Any news?", source="article_feedback")
    run_jobs()
    conversations = Conversation.objects.filter(workspace=admin.workspace)
    assert conversations.count() == 1  # the contact's open conversation, as for every channel
    assert conversations.get().messages.count() == 2


def test_a_signed_in_customer_writes_as_their_own_contact(admin, run_jobs):
    with transaction.atomic():
        contact = resolve_sender(admin.workspace, "phone", "+972525551234", verified=True).contact
        do_add_identity(contact, IdentityKind.EMAIL, "dana@example.com", verified=True)
    submit_request(admin.workspace, email="", contact=contact, source="portal")
    run_jobs()
    message = Message.objects.get(channel__kind="portal")
    assert message.conversation.contact_id == contact.pk
    assert (message.identity.kind, message.identity.address) == ("email", "dana@example.com")
    assert Contact.objects.count() == 1


def test_a_reply_on_a_conversation_lands_on_it(admin, run_jobs):
    with transaction.atomic():
        contact = resolve_sender(admin.workspace, "email", "dana@example.com", verified=True).contact
    submit_request(admin.workspace, email="", contact=contact, source="portal")
    run_jobs()
    first = Message.objects.get(channel__kind="portal").conversation
    with transaction.atomic():
        Conversation.objects.filter(pk=first.pk).update(status="pending")
        submit(workspace=admin.workspace, email="", subject="", text="Still waiting", source="portal",
               contact=contact, conversation=first)
    run_jobs()
    reply = Message.objects.get(text="Still waiting")
    assert reply.conversation_id == first.pk
    assert reply.metadata["threading"]["rule"] == "conversation_hint"


def test_attachments_are_kept_and_checked(admin, run_jobs):
    submit_request(admin.workspace, files=[("receipt.pdf", "application/pdf", b"%PDF-1.4 receipt")])
    run_jobs()
    attachment = Message.objects.get(channel__kind="portal").attachments.get()
    assert (attachment.filename, attachment.size) == ("receipt.pdf", 16)
    with pytest.raises(Exception) as refused:
        submit_request(admin.workspace, files=[("run.exe", "application/x-msdownload", b"MZ")])
    assert getattr(refused.value, "code", "") == "attachment_type_blocked"


@pytest.mark.parametrize("overrides, code", [
    ({"source": "elsewhere"}, "invalid_source"),
    ({"email": ""}, "email_required"),
    ({"email": "not an address"}, "invalid_email"),
    ({"text": "   "}, "empty_message"),
    ({"text": "x" * 20_001}, "too_long"),
])
def test_bad_input_is_refused_and_nothing_stored(admin, overrides, code):
    with pytest.raises(Exception) as refused:
        submit_request(admin.workspace, **overrides)
    assert getattr(refused.value, "code", "") == code
    assert InboundEvent.objects.count() == 0


def test_two_workspaces_have_their_own_portal_channel_and_contacts(admin, run_jobs):
    other = make_workspace("Globex")
    submit_request(admin.workspace)
    submit_request(other.workspace)
    run_jobs()
    channels = {m.channel.workspace_id: m for m in Message.objects.select_related("channel")}
    assert set(channels) == {admin.workspace_id, other.workspace_id}
    assert channels[admin.workspace_id].conversation.contact_id != channels[other.workspace_id].conversation.contact_id
    with transaction.atomic(), pytest.raises(Exception) as refused:
        do_submit_request(workspace=admin.workspace, email="", subject="", text="Hi", source="portal",
                          contact=channels[other.workspace_id].conversation.contact)
    assert getattr(refused.value, "code", "") == "invalid_contact"


def test_the_webhook_refuses_every_post(client, admin, run_jobs):
    submit_request(admin.workspace)
    channel = Channel.objects.get(kind="portal")
    response = client.post(f"/hooks/portal/{channel.pk}/", json.dumps({"submission_id": "x"}),
                           content_type="application/json")
    assert response.status_code == 401
    assert json.loads(response.content)["code"] == "invalid_signature"
    assert InboundEvent.objects.count() == 1


@pytest.fixture
def sink():
    smtp = SmtpSink().start()
    yield smtp
    smtp.stop()


def test_an_agent_reply_is_mailed_through_the_email_channel_with_a_link_into_the_portal(admin, run_jobs, sink):
    make_email_channel(admin, relay_url=sink.url)
    submit_request(admin.workspace)
    run_jobs()
    conversation = Message.objects.get(channel__kind="portal").conversation
    with transaction.atomic():
        reply = do_send_reply(admin, conversation, "It ships tomorrow.")
    assert reply.channel.kind == "portal"
    run_jobs()
    reply.refresh_from_db()
    assert reply.status == "sent", reply.status_reason
    captured = wait_for_mail(sink)[0]
    assert captured.rcpt_tos == ["dana.levi@example.com"]
    body = captured.message.get_body(preferencelist=("plain",)).get_content()
    assert "It ships tomorrow." in body
    path = link_in(captured, f"portal/{admin.workspace.slug}/link")
    customer = Client()
    signed = customer.post(path + "/")
    assert signed.status_code == 302
    assert signed["Location"] == f"/portal/{admin.workspace.slug}/requests/{conversation.pk}/"
    page = customer.get(signed["Location"]).content.decode()
    assert "It ships tomorrow." in page and "ההזמנה שלי לא הגיעה" in page


def test_without_an_email_channel_the_system_mail_tells_the_customer(admin, run_jobs, system_mail):
    submit_request(admin.workspace)
    run_jobs()
    conversation = Message.objects.get(channel__kind="portal").conversation
    with transaction.atomic():
        do_send_reply(admin, conversation, "It ships tomorrow.")
    run_jobs()
    captured = wait_for_mail(system_mail)[0]
    assert captured.rcpt_tos == ["dana.levi@example.com"]
    assert "It ships tomorrow." in captured.message.get_body(preferencelist=("plain",)).get_content()


def test_a_submission_racing_another_for_the_same_address_is_retried_not_parked(admin, run_jobs, monkeypatch):
    """Two submissions of one address processed at once (a feedback and a contact-us, two workers on
    PostgreSQL): the second finds the pseudo identity created between its check and its insert. Its job rolls
    back and runs again (the message lands on the first one's contact), instead of 'needs attention'."""
    from threadline.portal import actions

    event = submit_request(admin.workspace)
    real_create = actions.do_create_contact

    def create_while_the_other_worker_wins(workspace, **fields):
        other = real_create(workspace, name="Dana (other worker)")
        do_add_identity(other, IdentityKind.EXTERNAL, "portal:dana.levi@example.com", source="portal")
        monkeypatch.setattr(actions, "do_create_contact", real_create)
        return real_create(workspace, **fields)

    monkeypatch.setattr(actions, "do_create_contact", create_while_the_other_worker_wins)
    run_jobs()
    event.refresh_from_db()
    assert (event.state, event.error_code) == (InboundEvent.State.RECEIVED, "retrying")
    assert not Contact.objects.filter(workspace=admin.workspace).exists()  # rolled back, nothing half done

    Job.objects.update(run_after=now())  # the retry's back-off has passed
    run_jobs()
    event.refresh_from_db()
    assert event.state == InboundEvent.State.PROCESSED, event.error
    assert Contact.objects.filter(workspace=admin.workspace).count() == 1
