"""Talking to the CRM for a workspace: a session that refreshes an expired token once, then linking a contact
(matched by email, then phone), logging a conversation on the record, and applying records changed there
(matched back to contacts by the same identities). Network first, writes in short transactions after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from threadline.contacts.identities import normalize
from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.models import Conversation, Message
from threadline.core import crypto
from threadline.core.errors import ThreadlineError, ValidationFailed
from threadline.core.time import now
from threadline.crm.actions import (
    do_apply_record,
    do_link_record,
    do_note_activity,
    do_note_failure,
    do_store_tokens,
)
from threadline.crm.models import CrmConnection, CrmLink, Provider
from threadline.crm.oauth import refreshed
from threadline.crm.providers.base import Expired, Record, request
from threadline.crm.providers.hubspot import HubSpot
from threadline.crm.providers.salesforce import Salesforce

CrmApi = HubSpot | Salesforce


def session(connection: CrmConnection) -> tuple[CrmApi, Callable[..., Any]]:
    api: CrmApi = (HubSpot if connection.provider == Provider.HUBSPOT else Salesforce)(connection.api_url,
                                                                                       connection.account)

    def call(method: str, url: str, **kwargs: Any) -> Any:
        token = crypto.decrypt_json(connection.secrets_encrypted).get("access_token", "")
        try:
            return request(method, url, token, **kwargs)
        except Expired:
            answer = refreshed(connection)
            with transaction.atomic():
                do_store_tokens(connection, answer)
            try:
                return request(method, url, answer["access_token"], **kwargs)
            except Expired as exc:
                raise ThreadlineError(_("The CRM refused a freshly refreshed token."), code="crm_unauthorized") from exc

    return api, call


def _addresses(contact: Contact, kind: str) -> list[str]:
    return list(contact.identities.filter(kind=kind).order_by("-verified", "id").values_list("address", flat=True))


def link_contact(connection: CrmConnection, contact: Contact, *, create: bool = False) -> CrmLink | None:
    """The contact's CRM record, refreshed; found by email then phone when not linked yet; created there when
    `create` and none matches. None when there is none (and none is to be created)."""
    api, call = session(connection)
    link = CrmLink.objects.filter(connection=connection, contact=contact).first()
    if link is not None:
        record = api.get(call, link.external_id)
        with transaction.atomic():
            return do_apply_record(link, record)
    record, created = api.find(call, _addresses(contact, "email"), _addresses(contact, "phone")), False
    if record is None and create:
        emails, phones = _addresses(contact, "email"), _addresses(contact, "phone")
        if not emails and not phones:
            return None
        record, created = api.create(call, contact.name, emails[0] if emails else "", phones[0] if phones else ""), True
    if record is None or CrmLink.objects.filter(connection=connection, external_id=record.id).exists():
        return None  # another contact here is already that record: a merge for an agent, not for sync
    with transaction.atomic():
        return do_link_record(connection, contact, record, created=created)


def summary(conversation: Conversation) -> tuple[str, str]:
    messages = Message.objects.filter(conversation=conversation, is_note=False)
    first = messages.order_by("id").values_list("text", flat=True).first() or ""
    channels = sorted(set(messages.exclude(channel=None).values_list("channel__kind", flat=True)))
    subject = _("Support conversation #%(id)s: %(subject)s") % {"id": conversation.pk,
                                                                "subject": conversation.subject or _("(no subject)")}
    body = "\n".join([
        _("Status: %(status)s") % {"status": conversation.get_status_display()},
        _("Channels: %(channels)s") % {"channels": ", ".join(channels) or "—"},
        _("Messages: %(count)s") % {"count": messages.count()},
        _("First message: %(text)s") % {"text": first[:500]},
        f"{_('In Threadline')}: {conversation_url(conversation)}",
    ])
    return subject, body


def conversation_url(conversation: Conversation) -> str:
    return f"{settings.PUBLIC_URL}/app/c/{conversation.pk}/"


def log_conversation(connection: CrmConnection, conversation: Conversation) -> str:
    """The conversation as an activity on the contact's record (linked, or created when the connection says
    so). Answers the activity's id, "" when the contact has no record."""
    contact = conversation.contact
    try:
        link = link_contact(connection, contact, create=connection.create_missing)
        if link is None:
            return ""
        api, call = session(connection)
        subject, body = summary(conversation)
        activity = api.log_activity(call, link.external_id, subject, body, now())
    except ThreadlineError as exc:
        with transaction.atomic():
            do_note_failure(connection, contact, str(exc))
        raise
    with transaction.atomic():
        do_note_activity(connection, contact, conversation.pk, activity)
    return activity


def apply_changed(connection: CrmConnection, records: list[Record]) -> int:
    """Records changed in the CRM: a linked contact takes them under the conflict rule; an unlinked record whose
    email or phone a contact here has gets linked (matching in both directions). Answers how many were applied."""
    region = connection.workspace.default_region or "US"
    applied = 0
    for record in records:
        link = CrmLink.objects.filter(connection=connection, external_id=record.id).select_related("contact").first()
        contact = link.contact if link else _match(connection.workspace_id, record, region)
        if contact is None:
            continue
        with transaction.atomic():
            if link:
                do_apply_record(link, record)
            elif not CrmLink.objects.filter(connection=connection, contact=contact).exists():
                do_link_record(connection, contact, record, created=False)
        applied += 1
    return applied


def _match(workspace_id: int, record: Record, region: str) -> Contact | None:
    for kind, value in (("email", record.email), ("phone", record.phone)):
        if not value:
            continue
        try:
            address = normalize(kind, value, region=region)
        except (ValueError, ValidationFailed):
            continue
        identity = ContactIdentity.objects.filter(workspace_id=workspace_id, kind=kind, address=address).first()
        if identity is not None:
            return identity.contact
    return None
