"""Telling a portal customer about an agent's reply: an email with a one-time link to the conversation.

The mail leaves through the workspace's email channel when it has one (so a reply to the mail threads back
into the conversation), else through the installation's own mail server (`core/mail.py`). The link opens
only that conversation (`portal.links`): the workspace's email channel copies participants of the
conversation. A customer with no email address reads the reply in the portal only.
"""

from __future__ import annotations

import logging

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from threadline.channels.base import DeliveryResult, OutboundMessage, TransientSendError
from threadline.channels.models import Channel
from threadline.channels.registry import adapter_for
from threadline.contacts.models import ContactIdentity, IdentityKind
from threadline.conversations.models import Conversation
from threadline.core import mail
from threadline.portal import links
from threadline.portal.models import SignInLink
from threadline.portal.queries import PSEUDO_PREFIX

logger = logging.getLogger(__name__)


def recipient_email(message: OutboundMessage, conversation: Conversation) -> str:
    """Where the customer is told: the address the reply goes to, else their contact's email (verified
    first); "" when they have none."""
    if message.recipient_kind == IdentityKind.EMAIL:
        return message.recipient_address
    if message.recipient_kind == IdentityKind.EXTERNAL and message.recipient_address.startswith(PSEUDO_PREFIX):
        return message.recipient_address.removeprefix(PSEUDO_PREFIX)
    identity = (ContactIdentity.objects.filter(contact_id=conversation.contact_id, kind=IdentityKind.EMAIL)
                .order_by("-verified", "id").first())
    return identity.address if identity is not None else ""


def notify(message: OutboundMessage, channel: Channel) -> DeliveryResult:
    shown = DeliveryResult(provider_message_id=f"portal-out-{message.message_id}")
    conversation = Conversation.objects.select_related("workspace", "contact").get(pk=message.conversation_id)
    address = recipient_email(message, conversation)
    if not address or not channel.config.get("notify_by_email", True):
        return shown
    workspace = conversation.workspace
    token = links.do_issue_link(
        workspace, SignInLink.Purpose.NOTIFICATION, email=address, contact=conversation.contact,
        conversation=conversation, next_path=f"{links.portal_root(workspace)}requests/{conversation.pk}/",
        lifetime=links.NOTIFICATION_LIFETIME,
    )
    language = (conversation.language or workspace.default_language or "en")[:2]
    with translation.override(language):
        text = render_to_string("portal/notification.txt", {
            "text": message.text, "url": links.link_url(workspace, token), "workspace": workspace.name,
            "subject": conversation.subject,
        })
        subject = _("New reply to your request: %(subject)s") % {"subject": conversation.subject or workspace.name}
    email_channel = (Channel.objects.filter(workspace_id=workspace.pk, kind="email", is_active=True)
                     .order_by("id").first())
    if email_channel is not None:
        sent = adapter_for("email").send(OutboundMessage(
            message_id=message.message_id, conversation_id=conversation.pk, recipient_kind=IdentityKind.EMAIL,
            recipient_address=address, text=text, subject=conversation.subject or subject,
            idempotency_key=message.idempotency_key,  # the same Message-ID on every attempt
        ), email_channel)
        return DeliveryResult(provider_message_id=sent.provider_message_id)
    if not mail.configured():
        logger.warning("portal reply %s: no email channel and no system mail; shown in the portal only",
                       message.message_id)
        return shown
    if not mail.send(address, " ".join(subject.split())[:200], text):
        raise TransientSendError("the installation's mail server did not accept the reply's notification")
    return shown
