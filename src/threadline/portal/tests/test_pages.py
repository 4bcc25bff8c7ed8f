"""What a signed-in customer sees and does: their contact's conversations on every channel with public
messages only (never notes, never another contact's, never another workspace's), replies that land on the same
conversation as portal messages, attachments, new requests, and the conversation a reply's mail opens."""

from __future__ import annotations

from django.db import transaction
from django.test import Client

from threadline.contacts.merge import do_merge_contacts
from threadline.conversations.actions import do_add_note, do_send_reply
from threadline.conversations.models import Message
from threadline.portal.tests.helpers import api_channel, customer_writes, signed_in
from threadline.testing.factories import make_workspace


def portal(workspace) -> str:
    return f"/portal/{workspace.slug}/"


def test_the_customer_sees_public_messages_of_every_channel_but_never_notes(admin, run_jobs):
    conversation = customer_writes(api_channel(admin), "dana@example.com", "My parcel is late")
    with transaction.atomic():
        do_add_note(admin, conversation, "Internal: customer is a VIP, refund quietly")
        do_send_reply(admin, conversation, "Sorry! It ships today.")
    customer = signed_in(conversation.contact)
    page = customer.get(portal(admin.workspace) + f"requests/{conversation.pk}/").content.decode()
    assert "My parcel is late" in page and "Sorry! It ships today." in page
    assert "VIP" not in page and "Internal" not in page


def test_another_contacts_and_another_workspaces_conversations_are_404(admin):
    mine = customer_writes(api_channel(admin), "dana@example.com", "Mine")
    theirs = customer_writes(api_channel(admin), "eli@example.com", "Eli's secret order")
    other = make_workspace("Globex")
    elsewhere = customer_writes(api_channel(other), "dana@example.com", "Globex order")
    customer = signed_in(mine.contact)
    base = portal(admin.workspace)
    assert customer.get(base + f"requests/{theirs.pk}/").status_code == 404
    assert customer.get(base + f"requests/{elsewhere.pk}/").status_code == 404
    assert customer.post(base + f"requests/{theirs.pk}/reply", {"text": "hi"}).status_code == 404
    home = customer.get(base).content.decode()
    assert "Mine" in home and "Eli" not in home and "Globex order" not in home
    # the session of one workspace opens nothing in the other, even for the same address
    assert customer.get(portal(other.workspace) + f"requests/{elsewhere.pk}/").status_code == 302
    assert Message.objects.filter(text="hi").count() == 0


def test_merged_contacts_conversations_are_included(admin):
    email = customer_writes(api_channel(admin), "dana@example.com", "By email")
    phone = customer_writes(api_channel(admin), "+972525551234", "By phone", kind="phone")
    with transaction.atomic():
        do_merge_contacts(admin, phone.contact, email.contact)
    home = signed_in(email.contact).get(portal(admin.workspace)).content.decode()
    assert "By email" in home and "By phone" in home


def test_a_reply_lands_on_the_same_conversation_as_a_portal_message(admin, run_jobs):
    conversation = customer_writes(api_channel(admin), "dana@example.com", "My parcel is late")
    customer = signed_in(conversation.contact)
    answer = customer.post(portal(admin.workspace) + f"requests/{conversation.pk}/reply", {"text": "Any news?"})
    assert answer.status_code == 302 and answer["Location"].endswith(f"requests/{conversation.pk}/?sent=1")
    run_jobs()
    reply = Message.objects.get(text="Any news?")
    assert reply.conversation_id == conversation.pk
    assert reply.channel.kind == "portal" and reply.direction == "in"
    assert reply.author_contact_id == conversation.contact_id


def test_attachments_are_checked_stored_and_only_the_owner_downloads_them(admin, run_jobs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    conversation = customer_writes(api_channel(admin), "dana@example.com", "Receipt attached")
    customer = signed_in(conversation.contact)
    url = portal(admin.workspace) + f"requests/{conversation.pk}/reply"
    sent = customer.post(url, {"text": "Here", "files": [SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 r",
                                                                             "application/pdf")]})
    assert sent.status_code == 302
    blocked = customer.post(url, {"text": "Run me", "files": [SimpleUploadedFile("tool.exe", b"MZ",
                                                                                 "application/x-msdownload")]})
    assert blocked.status_code == 400 and "not accepted" in blocked.content.decode()
    run_jobs()
    attachment = Message.objects.get(text="Here").attachments.get()
    download = customer.get(portal(admin.workspace) + f"attachments/{attachment.pk}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 r"
    stranger = signed_in(customer_writes(api_channel(admin), "eli@example.com", "Hi").contact)
    assert stranger.get(portal(admin.workspace) + f"attachments/{attachment.pk}").status_code == 404
    assert Message.objects.filter(text="Run me").count() == 0


def test_a_new_request_from_the_portal(admin, run_jobs):
    conversation = customer_writes(api_channel(admin), "dana@example.com", "Old question")
    with transaction.atomic():
        from threadline.conversations.models import Conversation

        Conversation.objects.filter(pk=conversation.pk).update(status="closed")
    customer = signed_in(conversation.contact)
    assert customer.get(portal(admin.workspace) + "new").status_code == 200
    empty = customer.post(portal(admin.workspace) + "new", {"subject": "Refund", "text": ""})
    assert empty.status_code == 400
    sent = customer.post(portal(admin.workspace) + "new", {"subject": "Refund", "text": "I want a refund"})
    assert sent.status_code == 200
    run_jobs()
    message = Message.objects.get(text="I want a refund")
    assert message.conversation.contact_id == conversation.contact_id
    assert message.conversation.subject == "Refund" and message.conversation_id != conversation.pk


def test_a_reply_mails_link_opens_only_its_conversation(admin, run_jobs):
    first = customer_writes(api_channel(admin), "dana@example.com", "First")
    from threadline.conversations.models import Conversation

    Conversation.objects.filter(pk=first.pk).update(status="closed")
    second = customer_writes(api_channel(admin), "dana@example.com", "Second")
    assert first.pk != second.pk
    scoped = signed_in(second.contact, conversation=second)
    home = scoped.get(portal(admin.workspace)).content.decode()
    assert "Second" in home and "First" not in home
    assert scoped.get(portal(admin.workspace) + f"requests/{first.pk}/").status_code == 404
    assert scoped.get(portal(admin.workspace) + "new").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(admin):
    conversation = customer_writes(api_channel(admin), "dana@example.com", "Hello")
    anonymous = Client()
    assert anonymous.get(portal(admin.workspace) + f"requests/{conversation.pk}/").status_code == 302
    assert anonymous.get("/portal/no-such-workspace/").status_code == 404
    assert "sign-in/phone" in anonymous.get(portal(admin.workspace)).content.decode()
