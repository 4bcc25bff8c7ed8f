"""Masking at ingest, through real edges: the API channel's signed webhook, Twilio's SMS webhook (a form
body) and an email through the SMTP/IMAP edge (a MIME original with a base64 part). The stored message, the
conversation's subject, the `message.received` event (what outbound webhooks deliver) and the raw payload
all hold the masked text only; a workspace that turned redaction off keeps the text as written."""

from __future__ import annotations

import base64
import json
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import quote_plus

import pytest

from threadline.channels.email import edge
from threadline.channels.email.testkit import make_email_channel
from threadline.channels.models import InboundEvent
from threadline.channels.sms.tests.helpers import PUBLIC_URL, fixture, make_twilio_channel, twilio_post
from threadline.conversations.models import Message
from threadline.events.models import OutboxEvent
from threadline.testing.factories import make_api_channel, signed_body

CARD_FA = "۴۱۱۱ ۱۱۱۱ ۱۱۱۱ ۱۱۱۱"  # 4111 1111 1111 1111 in Persian digits
IL_ID = "000000018"
CARD = "4111-1111-1111-1111"
RC = "736028/5163"


def post_api(client, channel, document):
    body, headers = signed_body(channel, document)
    return client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers)


def stored(provider_message_id):
    message = Message.objects.select_related("conversation").get(provider_message_id=provider_message_id)
    received = OutboxEvent.objects.get(type="message.received", payload__message_id=message.pk)
    return message, received


def test_api_channel_message_and_its_raw_payload_are_masked(client, admin, run_jobs):
    channel = make_api_channel(admin)
    document = {"message_id": "shop-77", "sender": {"kind": "email", "address": "dana@example.com"},
                "text": f"כרטיס {CARD_FA}, ת.ז. {IL_ID}", "subject": f"Card {CARD}",
                "html": f"<p>כרטיס {CARD_FA}</p>"}
    assert post_api(client, channel, document).status_code == 202
    run_jobs()
    message, received = stored("shop-77")
    assert message.text == "כרטיס [card ••••1111], ת.ז. [ID number]"
    assert "[card ••••1111]" in message.html and "۱۱۱۱ ۱۱۱۱" not in message.html
    assert message.conversation.subject == "Card [card ••••1111]"
    assert received.payload["text"] == message.text
    raw = bytes(InboundEvent.objects.get(channel=channel).body)
    assert json.loads(raw)["text"] == message.text
    for secret in (CARD_FA, IL_ID, CARD, json.dumps(CARD_FA)[1:-1]):
        assert secret.encode() not in raw


def test_a_workspace_that_turned_redaction_off_keeps_the_text(client, admin, run_jobs):
    admin.workspace.redact_pii = False
    admin.workspace.save()
    channel = make_api_channel(admin)
    post_api(client, channel, {"message_id": "shop-78", "sender": {"kind": "email", "address": "d@example.com"},
                               "text": f"card {CARD}"})
    run_jobs()
    message, received = stored("shop-78")
    assert message.text == f"card {CARD}" == received.payload["text"]
    assert CARD.encode() in bytes(InboundEvent.objects.get(channel=channel).body)


def test_national_identifiers_follow_the_workspace_countries(client, admin, run_jobs):
    admin.workspace.countries = ["CZ", "US"]  # not Israel any more
    admin.workspace.save()
    channel = make_api_channel(admin)
    post_api(client, channel, {"message_id": "shop-79", "sender": {"kind": "email", "address": "d@example.com"},
                               "text": f"ID {IL_ID}, RČ {RC}, SSN 078-05-1120"})
    run_jobs()
    assert stored("shop-79")[0].text == f"ID {IL_ID}, RČ [birth number], SSN [SSN]"


@pytest.fixture
def _twilio_public_url(settings):
    settings.PUBLIC_URL = PUBLIC_URL


@pytest.mark.usefixtures("_twilio_public_url")
def test_sms_form_body_is_masked(client, admin, run_jobs):
    channel = make_twilio_channel(admin)
    body = fixture("inbound_text.form").replace("Body=Hi%2C+my+order+1001+has+not+arrived",
                                                "Body=" + quote_plus(f"My card is {CARD} thanks"))
    assert twilio_post(client, channel, body).status_code == 202
    run_jobs()
    message, received = stored("SM1f0e8ae6ade43cb3c0ce4525424e404f")
    assert message.text == "My card is [card ••••1111] thanks" == received.payload["text"]
    raw = bytes(InboundEvent.objects.get(channel=channel).body).decode()
    assert "1111" not in raw.replace("%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A21111", "")
    assert "Body=My+card+is+%5Bcard+" in raw and "SmsMessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f" in raw


def test_email_original_is_masked_in_its_base64_part(admin, run_jobs):
    admin.workspace.countries = ["CZ"]
    admin.workspace.save()
    channel = make_email_channel(admin)
    mail = EmailMessage()
    mail["From"], mail["To"] = "Jiří Novák <jiri@example.cz>", "support@acme.test"
    mail["Subject"], mail["Message-ID"] = f"Platba kartou {CARD}", "<rc-1@example.cz>"
    mail.set_content(f"Dobrý den,\nmoje rodné číslo je {RC} a karta {CARD}.\n", charset="utf-8", cte="base64")
    raw = mail.as_bytes()
    assert base64.b64encode(RC.encode()) not in raw and RC.encode() not in raw  # only decoding finds it
    edge.store(channel, raw, transport="smtp", envelope_from="jiri@example.cz", recipients=["support@acme.test"])
    run_jobs()
    event = InboundEvent.objects.get(channel=channel)
    assert event.state == InboundEvent.State.PROCESSED, event.error
    message = Message.objects.get(channel=channel)
    assert message.text == "Dobrý den,\nmoje rodné číslo je [birth number] a karta [card ••••1111]."
    assert message.conversation.subject == "Platba kartou [card ••••1111]"
    assert message.metadata["email"]["subject"] == "Platba kartou [card ••••1111]"
    assert message.metadata["email"]["message_id"] == "<rc-1@example.cz>"
    original = message_from_bytes(bytes(event.body), policy=policy.default)
    assert original["Message-ID"] == "<rc-1@example.cz>"
    assert original["Subject"] == "Platba kartou [card ••••1111]"
    assert original.get_body(("plain",)).get_content().strip() == message.text
    assert "736028" not in bytes(event.body).decode("utf-8", "replace")


def test_survey_and_feedback_comments_are_masked_and_a_forwarded_one_is_still_found(client, admin, run_jobs):
    """The public forms that store a customer's words outside a message (a survey's comment page, an article's
    "not helpful" comment) mask like ingest; the comment forwarded as a request still matches its message, so
    an erasure of the writer finds it."""
    from django.db import transaction

    from threadline.bot.tests.helpers import publish_article
    from threadline.contacts.models import Contact
    from threadline.knowledge.actions import do_record_feedback
    from threadline.portal.actions import do_submit_request
    from threadline.privacy.scope import scope_of
    from threadline.surveys.actions import do_add_comment, do_record_answer, do_save_survey
    from threadline.surveys.models import SurveyRequest

    translation = publish_article(admin, "en", "Returns", "How to return an order")
    comment = f"Charge my card {CARD} again"
    with transaction.atomic():
        feedback = do_record_feedback(translation, helpful=False, comment=comment)
        do_submit_request(workspace=admin.workspace, email="rae@example.com", source="article_feedback",
                          subject="Feedback", text=f"{comment}\n\nhttps://help.example/a/1")
    run_jobs()
    assert feedback.comment == "Charge my card [card ••••1111] again"
    contact = Contact.objects.get(identities__address="portal:rae@example.com")
    assert scope_of(contact).forwarded_feedback() == [feedback.pk]
    with transaction.atomic():
        request = SurveyRequest.objects.create(workspace=admin.workspace, kind="csat", contact=contact,
                                               survey=do_save_survey(admin, "csat", enabled=True),
                                               conversation=contact.conversations.get())
        response = do_add_comment(do_record_answer(request, 1, channel_id=None), f"ID {IL_ID}, card {CARD}")
    assert response.comment == "ID [ID number], card [card ••••1111]"

    type(admin.workspace).objects.filter(pk=admin.workspace_id).update(redact_pii=False)
    with transaction.atomic():
        kept = do_record_feedback(type(translation).objects.get(pk=translation.pk), helpful=False, comment=comment)
    assert kept.comment == comment
