"""REST endpoints of the email channel: a conversation's participants, and what an agent needs to trust a
message (why it was threaded, the folded history, the original as received)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from threadline.api.auth import actor
from threadline.channels.email import claims
from threadline.channels.email.models import EmailClaim, EmailParticipant
from threadline.channels.email.participants import (
    do_add_participant,
    do_remove_participant,
    sync_participants,
)
from threadline.channels.email.threading import explain
from threadline.channels.models import InboundEvent
from threadline.channels.queries import access_channel
from threadline.conversations.queries import access_conversation, access_message
from threadline.core.errors import NotFound
from threadline.core.schemas import Id
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["email"])


class ParticipantIn(Schema):
    address: str = Field(min_length=3, max_length=320)
    name: str = Field(default="", max_length=300)


class ParticipantOut(Schema):
    address: str
    name: str
    source: str
    active: bool


class EmailBounceOut(Schema):
    recipients: list[str] = Field(description="The addresses the report says could not be reached")
    permanent: bool
    reason: str
    original_message_ids: list[str] = Field(description="Message-IDs of the failed mail it names (none of ours)")


class EmailDetailOut(Schema):
    threading_rule: str
    explanation: str
    signal: dict[str, Any]
    subject: str
    sender: list[str]
    to: list[list[str]]
    cc: list[list[str]]
    folded: str
    fold_rule: str
    full_text: str
    auto_reply: str = Field(description="Why it is automatic mail that is never answered automatically")
    bounce: EmailBounceOut | None = Field(description="The delivery failure it reports, when it is a bounce of "
                                          "mail that is not one of our messages")
    defects: list[str]
    has_original: bool


@router.get("/conversations/{conversation_id}/participants", response=list[ParticipantOut])
def participant_list(request: HttpRequest, conversation_id: int) -> list[EmailParticipant]:
    """People copied on the conversation's email replies (inactive ones were removed by an agent)."""
    with transaction.atomic():
        return sync_participants(access_conversation(actor(request), conversation_id))


@router.post("/conversations/{conversation_id}/participants", response={201: ParticipantOut})
def participant_add(request: HttpRequest, conversation_id: int, body: ParticipantIn) -> Status:
    """Copy someone on the conversation's replies from now on (full agents)."""
    with transaction.atomic():
        conversation = access_conversation(actor(request), conversation_id, for_update=True)
        return Status(201, do_add_participant(actor(request), conversation, body.address, body.name))


@router.delete("/conversations/{conversation_id}/participants/{address}", response={204: None})
def participant_remove(request: HttpRequest, conversation_id: int, address: str) -> Status:
    """Stop copying someone; a later Cc does not bring them back (full agents)."""
    with transaction.atomic():
        conversation = access_conversation(actor(request), conversation_id, for_update=True)
        do_remove_participant(actor(request), conversation, address)
    return Status(204, None)


class DomainOut(Schema):
    domain: str
    verified: bool
    verified_by: str
    record_name: str = Field(description="Publish a TXT record at this name ...")
    record_value: str = Field(description="... with this value, then ask for verification")


def _domain_out(claim: EmailClaim) -> DomainOut:
    return DomainOut(domain=claim.value, verified=claim.verified_at is not None, verified_by=claim.verified_by,
                     record_name=claims.record_name(claim.value), record_value=claims.record_value(claim))


@router.get("/channels/{channel_id}/email/domains", response=list[DomainOut])
def domain_list(request: HttpRequest, channel_id: Id) -> list[DomainOut]:
    """The channel's catch-all domains and the DNS TXT record that proves each (admins)."""
    require(actor(request), Permission.ADMIN_CHANNELS)
    return [_domain_out(c) for c in claims.domain_claims(access_channel(actor(request), channel_id))]


@router.post("/channels/{channel_id}/email/domains/{domain}/verify", response=DomainOut)
def domain_verify(request: HttpRequest, channel_id: Id, domain: str) -> DomainOut:
    """Look up the domain's TXT record now; a verified domain starts receiving mail for every address (admins).
    400 `domain_not_verified` while the record is missing."""
    require(actor(request), Permission.ADMIN_CHANNELS)
    channel = access_channel(actor(request), channel_id)
    claim = next((c for c in claims.domain_claims(channel) if c.value == domain.strip().lower()), None)
    if claim is None:
        raise NotFound(_("This channel has no such catch-all domain."), code="domain_not_found")
    proven = claims.published(claim)  # DNS first, outside the transaction
    with transaction.atomic():
        return _domain_out(claims.do_verify_domain(claim, proven=proven))


def _original(message_id: int, request: HttpRequest) -> InboundEvent | None:
    message = access_message(actor(request), message_id)
    if message.channel is None or message.channel.kind != "email" or not message.provider_message_id:
        return None
    return InboundEvent.objects.filter(channel=message.channel, idempotency_key=message.provider_message_id).first()


@router.get("/messages/{message_id}/email", response=EmailDetailOut)
def email_detail(request: HttpRequest, message_id: int) -> dict[str, Any]:
    """Why this email landed in its conversation, and the history folded away from its text."""
    message = access_message(actor(request), message_id)
    meta = message.metadata or {}
    email_meta = meta.get("email") or {}
    return {
        "threading_rule": (meta.get("threading") or {}).get("rule", ""), "explanation": explain(meta),
        "signal": email_meta.get("threading") or {}, "subject": email_meta.get("subject", ""),
        "sender": list(email_meta.get("from") or []), "to": email_meta.get("to") or [],
        "cc": email_meta.get("cc") or [], "folded": email_meta.get("folded", ""),
        "fold_rule": email_meta.get("fold_rule", ""), "full_text": email_meta.get("full_text", "") or message.text,
        "auto_reply": email_meta.get("auto_reply", ""), "bounce": email_meta.get("bounce"),
        "defects": email_meta.get("defects") or [],
        "has_original": _original(message_id, request) is not None,
    }


@router.get("/messages/{message_id}/email/original", response={200: None}, openapi_extra={
    "responses": {"200": {"content": {"message/rfc822": {}}, "description": "The message as received"}}})
def email_original(request: HttpRequest, message_id: int) -> HttpResponse:
    """The raw message exactly as it arrived (RFC 5322), for "show original"."""
    event = _original(message_id, request)
    if event is None:
        raise NotFound(_("The original of this message is not kept."), code="original_not_found")
    response = HttpResponse(bytes(event.body), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{message_id}.eml"'
    return response
