"""Reads of the consent ledger: is an address opted out on a channel, and its history."""

from __future__ import annotations

from django.db.models import QuerySet

from threadline.channels.models import Channel
from threadline.consent.models import ConsentAction, ConsentRecord
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def state(channel: Channel, identity_kind: str, address: str, purpose: str = "") -> ConsentRecord | None:
    """The opt-out or opt-in in force for this address on this channel (None: never asked). Without a purpose
    only records for every purpose count (an agent's reply ignores a marketing opt-out); with one, the latest
    record for that purpose or for every purpose."""
    return (
        ConsentRecord.objects.filter(channel=channel, identity_kind=identity_kind, address=address,
                                     action__in=[ConsentAction.OPT_OUT, ConsentAction.OPT_IN],
                                     purpose__in=sorted({"", purpose}))
        .order_by("-created_at", "-id").first()
    )


def is_opted_out(channel: Channel, identity_kind: str, address: str, purpose: str = "") -> bool:
    current = state(channel, identity_kind, address, purpose)
    return current is not None and current.action == ConsentAction.OPT_OUT


def list_records(actor: Membership, *, address: str = "", channel_id: int | None = None) -> QuerySet[ConsentRecord]:
    require(actor, Permission.VIEW)
    records = ConsentRecord.objects.filter(workspace_id=actor.workspace_id).select_related("channel")
    if address:
        records = records.filter(address=address)
    if channel_id is not None:
        records = records.filter(channel_id=channel_id)
    return records.order_by("-created_at", "-id")
