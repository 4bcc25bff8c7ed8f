"""Reads of the consent ledger: is an address opted out on a channel, and its history."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from threadline.channels.models import Channel
from threadline.consent.models import ConsentAction, ConsentRecord
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

_local = threading.local()


@contextlib.contextmanager
def read_ahead(workspace_id: int, addresses: Iterable[tuple[str, str]]) -> Iterator[None]:
    """While the block runs, `state` answers for these (identity kind, address) pairs from one read of their
    records in the workspace, not one read per question (a campaign's batch asks two per recipient, issue 11).
    The block must not record consent for them itself; a record committed elsewhere meanwhile counts as one
    that came just after the block."""
    wanted = set(addresses)
    known: dict[tuple[int, str, str], list[ConsentRecord]] = {}
    records = (ConsentRecord.objects.filter(workspace_id=workspace_id, address__in={a for _k, a in wanted},
                                            action__in=[ConsentAction.OPT_OUT, ConsentAction.OPT_IN])
               .order_by("-created_at", "-id"))
    for record in records:
        if (record.identity_kind, record.address) in wanted:
            known.setdefault((record.channel_id, record.identity_kind, record.address), []).append(record)
    outer = getattr(_local, "known", None)
    _local.known = (wanted, known)
    try:
        yield
    finally:
        _local.known = outer


def state(channel: Channel, identity_kind: str, address: str, purpose: str = "") -> ConsentRecord | None:
    """The opt-out or opt-in in force for this address on this channel (None: never asked). Without a purpose
    only records for every purpose count (an agent's reply ignores a marketing opt-out); with one, the latest
    record for that purpose or for every purpose."""
    ahead = getattr(_local, "known", None)
    if ahead is not None and (identity_kind, address) in ahead[0]:
        purposes = {"", purpose}
        return next((record for record in ahead[1].get((channel.pk, identity_kind, address), [])
                     if record.purpose in purposes), None)
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
