"""People copied on an email conversation: who they are, and the writes agents make to them.

Anyone in the To or Cc of a customer's email, other than the channel's own addresses and the conversation's
contact, becomes a participant (`sync_participants`, run before each reply is built and when an agent lists
them); active participants are copied on every reply. An agent may add or remove one; a removal sticks.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from threadline.channels.email.models import EmailParticipant
from threadline.channels.models import Channel
from threadline.contacts.identities import normalize_email
from threadline.conversations.actions import record_event
from threadline.conversations.models import Conversation, Direction, Message
from threadline.core.errors import ValidationFailed
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

MAX_PARTICIPANTS = 50


def _own_addresses(workspace_id: int) -> set[str]:
    from threadline.channels.email.adapter import config_of

    own: set[str] = set()
    for channel in Channel.objects.filter(workspace_id=workspace_id, kind="email"):
        try:
            config = config_of(channel)
        except ValueError:
            continue
        own |= {config.address, *config.aliases}
    return own


def _is_own(address: str, own: set[str]) -> bool:
    local, _sep, domain = address.partition("@")
    return address in own or f"{local.partition('+')[0]}@{domain}" in own


def sync_participants(conversation: Conversation) -> list[EmailParticipant]:
    """Add the To/Cc people of the conversation's inbound email as participants; return all of them."""
    existing = {p.address: p for p in EmailParticipant.objects.filter(conversation=conversation)}
    contact_addresses = set(conversation.contact.identities.filter(kind="email").values_list("address", flat=True))
    own = _own_addresses(conversation.workspace_id)
    senders = set()
    for metadata, identity_address in Message.objects.filter(
        conversation=conversation, direction=Direction.INBOUND, channel__kind="email"
    ).order_by("created_at", "id").values_list("metadata", "identity__address"):
        email_meta = (metadata or {}).get("email") or {}
        senders.add(identity_address)
        for name, address in [*email_meta.get("to", []), *email_meta.get("cc", [])]:
            address = (address or "").lower()
            if (not address or address in existing or address in contact_addresses or _is_own(address, own)
                    or len(existing) >= MAX_PARTICIPANTS):
                continue
            existing[address] = EmailParticipant.objects.create(
                workspace_id=conversation.workspace_id, conversation=conversation, address=address,
                name=(name or "")[:300], source="cc",
            )
    # Someone other than the contact who wrote into the conversation (a colleague replying all) is one too.
    for address in senders - contact_addresses - set(existing):
        if address and not _is_own(address, own) and len(existing) < MAX_PARTICIPANTS:
            existing[address] = EmailParticipant.objects.create(
                workspace_id=conversation.workspace_id, conversation=conversation, address=address, source="cc",
            )
    return sorted(existing.values(), key=lambda p: p.pk)


def do_add_participant(actor: Membership, conversation: Conversation, address: str, name: str = "") -> EmailParticipant:
    """Copy `address` on the conversation's replies from now on."""
    require(actor, Permission.REPLY)
    address = normalize_email(address)
    participant = EmailParticipant.objects.filter(conversation=conversation, address=address).first()
    if participant is None:
        if EmailParticipant.objects.filter(conversation=conversation).count() >= MAX_PARTICIPANTS:
            raise ValidationFailed(_("This conversation has too many participants."), code="too_many_participants")
        participant = EmailParticipant.objects.create(
            workspace_id=conversation.workspace_id, conversation=conversation, address=address,
            name=name.strip()[:300], source="agent", changed_by=actor,
        )
    else:
        participant.active, participant.changed_by = True, actor
        participant.name = name.strip()[:300] or participant.name
        participant.save(update_fields=["active", "changed_by", "name", "updated_at"])
    record_event(conversation, "participant_added", actor=actor, address=address)
    return participant


def do_remove_participant(actor: Membership, conversation: Conversation, address: str) -> None:
    """Stop copying `address`; a later Cc does not bring them back (only an agent can)."""
    require(actor, Permission.REPLY)
    sync_participants(conversation)
    updated = EmailParticipant.objects.filter(conversation=conversation, address=address.strip().lower()).update(
        active=False, changed_by=actor, source="agent")
    if not updated:
        raise ValidationFailed(_("%(address)s is not a participant.") % {"address": address},
                               code="not_a_participant", field="address")
    record_event(conversation, "participant_removed", actor=actor, address=address.strip().lower())
