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
UNIQUE = (NAME, EMAIL, PHONE, OLD_EMAIL, BODY_TOKEN, ATTACHMENT.decode())


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


def rows_mentioning(strings: Iterable[str]) -> list[str]:
    """Every table row holding one of `strings` (any case), as "Model: string": the whole database, searched."""
    found = []
    for model in apps.get_models():
        for row in model.objects.all().values():
            text = json.dumps({k: bytes(v).decode("utf-8", "replace") if isinstance(v, bytes | memoryview) else v
                               for k, v in row.items()}, default=str, ensure_ascii=False).lower()
            found += [f"{model.__name__}: {s}" for s in strings if s.lower() in text]
    return found
