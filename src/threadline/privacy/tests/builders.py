"""A customer with data in every place erasure and export must reach, built through the real entry points:
an agent registers them, they write in on the API channel (a signed payload, stored raw, processed by the
worker) with an attachment, an agent replies, a webhook copies the events out, they opt out by phone, and a
second contact of theirs was merged into them. Used in-process and by the process test (in a shell)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db import transaction

from threadline.channels.inbound import accept_inbound
from threadline.channels.models import Channel
from threadline.consent.actions import do_record_consent
from threadline.contacts.actions import do_register_contact
from threadline.contacts.merge import do_merge_contacts
from threadline.contacts.models import Contact
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation
from threadline.jobs.worker import Worker
from threadline.tenancy.models import Membership
from threadline.webhooks.actions import do_create_subscription

NAME = "Zephyrine Quillfeather"
EMAIL = "zephyrine.q@uniq-example.org"
PHONE = "+972527319846"
OLD_EMAIL = "zq.oldbox@uniq-example.org"
BODY_TOKEN = "glimmerwick7731"
ATTACHMENT = b"attachment-content-ochrevault-5521"
SURVEY_COMMENT = "survey-remark-marrowlight-6624"
FEEDBACK_COMMENT = "feedback-note-brindlecove-8150"
BOT_TURN = "bot-turn-hollowspire-3391"
BOT_STATE = "dl-conversation-thistlewane-2207"  # an external platform's session id (stored encrypted)
UNIQUE = (NAME, EMAIL, PHONE, OLD_EMAIL, BODY_TOKEN, ATTACHMENT.decode(), SURVEY_COMMENT, FEEDBACK_COMMENT, BOT_TURN)


@dataclass
class Person:
    contact: Contact
    conversation: Conversation


def write_in(channel: Channel, message_id: str, address: str, text: str, *, name: str = NAME,
             files: bool = False) -> None:
    document = {"message_id": message_id, "sender": {"kind": "email", "address": address, "name": name},
                "text": text}
    if files:
        document["attachments"] = [{"filename": "passport-scan.txt", "content_type": "text/plain",
                                    "content_base64": base64.b64encode(ATTACHMENT).decode()}]
    accept_inbound(channel, message_id, json.dumps(document).encode(), {"content-type": "application/json"})
    Worker(worker_id="test:privacy:0").run_until_idle()


def make_person(admin: Membership, channel: Channel, webhook_url: str) -> Person:
    with transaction.atomic():
        do_create_subscription(admin, webhook_url, ["*"])
        contact = do_register_contact(admin, name=NAME, identities_in=[
            {"kind": "email", "address": EMAIL}, {"kind": "phone", "address": PHONE}])
        old = do_register_contact(admin, name="Z. Quillfeather", identities_in=[{"kind": "email", "address": OLD_EMAIL}])
    write_in(channel, "old-1", OLD_EMAIL, f"my old mailbox {BODY_TOKEN}")
    write_in(channel, "msg-1", EMAIL, f"Hello, my code is {BODY_TOKEN}", files=True)
    with transaction.atomic():
        do_merge_contacts(admin, Contact.objects.get(pk=old.pk), Contact.objects.get(pk=contact.pk))
        conversation = Conversation.objects.filter(contact=contact).order_by("pk").first()
        do_send_reply(admin, conversation, f"Thanks {NAME}, we got {BODY_TOKEN}")
        do_record_consent(admin, channel, "phone", PHONE, "opt_out", note="asked on the phone")
    Worker(worker_id="test:privacy:0").run_until_idle()
    return Person(Contact.objects.get(pk=contact.pk), conversation)


def add_self_service(admin: Membership, channel: Channel, person: Person) -> None:
    """Their data in the self-service domains, through each domain's own actions: a survey answered with a
    comment (the email comment page), a turn of an external bot (Direct Line's session kept encrypted), an
    article's "not helpful" comment the help center forwarded with their email, and a portal sign-in by link."""
    from threadline.bot.actions import do_apply_external_turn
    from threadline.bot.models import BotSession, Mode
    from threadline.bot.tests.helpers import publish_article
    from threadline.botplatforms.base import BotTurn
    from threadline.knowledge.actions import do_record_feedback
    from threadline.portal import links, signin
    from threadline.portal.actions import do_submit_request
    from threadline.portal.models import SignInLink
    from threadline.surveys.actions import do_add_comment, do_record_answer, do_save_survey
    from threadline.surveys.models import SurveyRequest

    worker = Worker(worker_id="test:privacy:0")
    conversation = person.conversation
    with transaction.atomic():
        survey = do_save_survey(admin, "csat", enabled=True)
        request = SurveyRequest.objects.create(workspace=admin.workspace, survey=survey, kind="csat",
                                               conversation=conversation, contact=person.contact, channel=channel)
        response = do_record_answer(request, 2, channel_id=channel.pk)
        do_add_comment(response, f"Slow answer. {SURVEY_COMMENT}")
        session = BotSession.objects.create(workspace=admin.workspace, conversation=conversation, channel=channel,
                                            mode=Mode.EXTERNAL)
    with transaction.atomic():
        do_apply_external_turn(session.pk, {"language": "en"}, BotTurn(
            messages=[f"Noted: {BOT_TURN}"], choices=[], handoff=False, handoff_reason="", raw={},
            state={"conversation_id": BOT_STATE, "watermark": "3"}))
    translation = publish_article(admin, "en", "Returns", "How to return an order")
    with transaction.atomic():  # what the help center's feedback form does with "No", a comment and an email
        do_record_feedback(translation, helpful=False, comment=FEEDBACK_COMMENT)
        do_submit_request(workspace=admin.workspace, email=EMAIL, source="article_feedback",
                          subject="Feedback on “Returns”", text=f"{FEEDBACK_COMMENT}\n\nhttps://help.example/a/1")
    worker.run_until_idle()
    with transaction.atomic():
        token = links.do_issue_link(admin.workspace, SignInLink.Purpose.EMAIL, email=EMAIL, contact=person.contact)
    signin.do_use_link(admin.workspace, token)
    worker.run_until_idle()


def rows_mentioning(strings: Iterable[str]) -> list[str]:
    """Every table row holding one of `strings` (any case), as "Model: string": the whole database, searched."""
    found = []
    for model in apps.get_models():
        for row in model.objects.all().values():
            text = json.dumps({k: bytes(v).decode("utf-8", "replace") if isinstance(v, bytes | memoryview) else v
                               for k, v in row.items()}, default=str, ensure_ascii=False).lower()
            found += [f"{model.__name__}: {s}" for s in strings if s.lower() in text]
    return found
