"""Writes to the consent ledger. Callers own the transaction.

`do_record_keyword` is called by a channel while it processes an inbound message (STOP, START, HELP and
their local equivalents); `do_record_consent` is an agent recording what a customer asked for elsewhere.
An opt-out blocks every send on that channel to that address until an opt-in (see `queries.is_opted_out`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from threadline.channels.models import Channel
from threadline.consent import keywords, queries
from threadline.consent.models import ConsentAction, ConsentPurpose, ConsentRecord
from threadline.core.errors import ValidationFailed
from threadline.events.bus import publish
from threadline.events.types import DomainEvent
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


@dataclass(frozen=True, kw_only=True)
class ConsentChanged(DomainEvent):
    type = "consent.changed"
    channel_id: int
    identity_kind: str
    address: str
    action: str
    source: str
    purpose: str = ""


def _record(channel: Channel, identity_kind: str, address: str, action: str, **fields: object) -> ConsentRecord:
    record = ConsentRecord.objects.create(workspace_id=channel.workspace_id, channel=channel,
                                          identity_kind=identity_kind, address=address, action=action, **fields)
    publish(ConsentChanged(workspace_id=channel.workspace_id, channel_id=channel.pk, identity_kind=identity_kind,
                           address=address, action=action, source=record.source,
                           purpose=record.purpose))
    return record


def do_record_keyword(
    channel: Channel, identity_kind: str, address: str, text: str, *, provider_message_id: str = "",
    provider_says: str = "",
) -> ConsentRecord | None:
    """Record the consent keyword in `text` (or the one the provider reports), if any.

    Opt-outs and help requests are always recorded; an opt-in only when the address was opted out, so a
    customer answering "yes" to an agent leaves no noise. Idempotent per provider message id.
    """
    found = keywords.match(text)
    source = ConsentRecord.Source.KEYWORD
    if provider_says:
        action = {"stop": ConsentAction.OPT_OUT, "start": ConsentAction.OPT_IN, "help": ConsentAction.HELP}.get(
            provider_says.lower())
        if action is None:
            return None
        found = (action, found[1] if found else "", found[2] if found else provider_says.lower())
        source = ConsentRecord.Source.PROVIDER
    if found is None:
        return None
    action, language, word = found
    if provider_message_id and ConsentRecord.objects.filter(channel=channel,
                                                            provider_message_id=provider_message_id).exists():
        return None
    if action == ConsentAction.OPT_IN and not queries.is_opted_out(channel, identity_kind, address):
        return None
    return _record(channel, identity_kind, address, action, keyword=word[:64], language=language, source=source,
                   provider_message_id=provider_message_id[:255])


def check_purpose(purpose: str) -> str:
    if purpose not in ConsentPurpose.values:
        raise ValidationFailed(_("The purpose is marketing, transactional or empty (every purpose)."),
                               code="invalid_purpose", field="purpose")
    return purpose


def do_record_consent(
    actor: Membership, channel: Channel, identity_kind: str, address: str, action: str, *, note: str = "",
    purpose: str = "",
) -> ConsentRecord:
    """An agent records an opt-out or opt-in the customer gave on another medium (a call, a letter), for every
    purpose or only marketing or transactional messages."""
    require(actor, Permission.CONTACTS_EDIT)
    purpose = check_purpose(purpose)
    if channel.workspace_id != actor.workspace_id:
        raise ValidationFailed(_("That channel is not in this workspace."), code="invalid_channel", field="channel_id")
    if action not in (ConsentAction.OPT_OUT, ConsentAction.OPT_IN):
        raise ValidationFailed(_("Consent can be opt_out or opt_in."), code="invalid_consent_action", field="action")
    return _record(channel, identity_kind, address, action, source=ConsentRecord.Source.AGENT, actor=actor,
                   note=note[:2000], purpose=purpose)


def do_record_unsubscribe(channel: Channel, identity_kind: str, address: str, *, purpose: str,
                          note: str = "") -> ConsentRecord | None:
    """The customer withdrew consent themselves (a one-click unsubscribe link, RFC 8058): an opt-out for the
    purpose of the message they left; None when one is in force already (a second click changes nothing)."""
    purpose = check_purpose(purpose)
    current = queries.state(channel, identity_kind, address, purpose)
    if current is not None and current.action == ConsentAction.OPT_OUT and current.purpose in ("", purpose):
        return None
    return _record(channel, identity_kind, address, ConsentAction.OPT_OUT, source=ConsentRecord.Source.LINK,
                   note=note[:2000], purpose=purpose)
