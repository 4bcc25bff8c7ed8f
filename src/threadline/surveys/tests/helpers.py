"""Switching a survey on and solving a conversation as an agent does, for the surveys' tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db import transaction

from threadline.channels.sms.tests.helpers import fixture
from threadline.conversations.actions import do_update_conversation
from threadline.conversations.models import Conversation
from threadline.surveys.actions import do_save_survey
from threadline.surveys.models import Survey
from threadline.tenancy.models import Membership


def enable_survey(admin: Membership, kind: str = "csat", enabled: bool = True, **fields: Any) -> Survey:
    with transaction.atomic():
        return do_save_survey(admin, kind, enabled=enabled, **fields)


def solve(admin: Membership, conversation: Conversation) -> None:
    with transaction.atomic():
        do_update_conversation(admin, Conversation.objects.get(pk=conversation.pk), status="solved")


def sms(n: int, text: str, sender: str = "+14155552671", *, form_name: str = "inbound_text.form") -> str:
    """Twilio's inbound SMS form (its documented fields) with its own message sid, sender and text; WhatsApp
    through Twilio with `form_name="inbound_whatsapp.form"` and a `whatsapp:+…` sender."""
    form = dict(item.split("=", 1) for item in fixture(form_name).split("&"))
    form.update(SmsMessageSid=f"SM{n:032d}", MessageSid=f"SM{n:032d}", SmsSid=f"SM{n:032d}")
    form.pop("Body")
    form.pop("From")
    return "&".join(f"{k}={v}" for k, v in form.items()) + "&" + urlencode({"Body": text, "From": sender})
