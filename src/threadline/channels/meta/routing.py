"""One Meta app has one callback URL for all its WhatsApp numbers, Pages and Instagram accounts, so a signed
webhook may carry entries for several channels, of several workspaces. Each part goes to the channel that
owns its id, and only when that channel's app secret signed the request:

- the payload's `object` names the kind (`whatsapp_business_account`, `page`, `instagram`);
- each adapter lists the owner ids its payload addresses (`owner_ids`: `metadata.phone_number_id` of each
  WhatsApp change, `entry[].id` = the Page or Instagram account for Messenger and Instagram) and parses only
  the parts of the channel it is given (`parts_of`);
- the request is stored once per owning channel; ids no channel owns (or owned by a channel whose app secret
  differs) are parked on the channel the request came to: a `failed` event naming them, applied nowhere.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from threadline.channels.base import InboundRequest, InboundRoute, VerificationError
from threadline.channels.meta import graph
from threadline.channels.models import Channel

OBJECT_KINDS = {"whatsapp_business_account": "whatsapp", "page": "messenger", "instagram": "instagram"}


def entries(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The entries of `doc` when its `object` is the one of channel kind `kind`, else none."""
    if OBJECT_KINDS.get(str(doc.get("object", ""))) != kind:
        return []
    return [entry for entry in doc.get("entry", []) if isinstance(entry, dict)]


def _signed_by(channel: Channel, request: InboundRequest) -> bool:
    try:
        graph.verify(request, channel.config.get("app_secret", ""))
    except VerificationError:
        return False
    return True


def _owner(kind: str, owner_id: str, request: InboundRequest, received_on: Channel,
           candidates: list[Channel]) -> Channel | None:
    """The active channel of `kind` owning `owner_id` whose app secret signed `request`; the receiving
    channel first, then the oldest (two channels configured with one id: the first keeps it)."""
    from threadline.channels.registry import adapter_for

    owns = adapter_for(kind).owns
    if received_on.kind == kind and owns(received_on, owner_id):
        return received_on
    return next((c for c in candidates if owns(c, owner_id) and _signed_by(c, request)), None)


def route(request: InboundRequest, channel: Channel) -> list[InboundRoute]:
    """The `route` hook of the Meta adapters (see `base.py`)."""
    from threadline.channels.registry import adapter_for

    doc = graph.document(request)
    kind = OBJECT_KINDS.get(str(doc.get("object", "")))
    if kind is None:
        if any(isinstance(entry, dict) for entry in doc.get("entry", [])):
            return [InboundRoute(None, _parked_key(request), _("The payload's object %(object)r is not one "
                                 "Meta sends for messaging; nothing was applied.") % {"object": doc.get("object")})]
        return [InboundRoute(channel, adapter_for(channel.kind).idempotency_key(request, channel))]
    adapter = adapter_for(kind)
    ids = list(dict.fromkeys(adapter.owner_ids(doc)))
    if not ids:  # nothing any channel would apply (a test ping, a field we do not read): kept where it came
        return [InboundRoute(channel, adapter_for(channel.kind).idempotency_key(request, channel))]
    candidates = list(Channel.objects.filter(kind=kind, is_active=True).order_by("pk"))
    owners: dict[int, Channel] = {}
    orphans: list[str] = []
    for owner_id in ids:
        owner = _owner(kind, owner_id, request, channel, candidates)
        if owner is None:
            orphans.append(owner_id or "?")
        else:
            owners.setdefault(owner.pk, owner)
    routes = [InboundRoute(owner, adapter.idempotency_key(request, owner)) for owner in owners.values()]
    if orphans:
        routes.append(InboundRoute(None, _parked_key(request), _(
            "No active %(kind)s channel signed with this app secret owns %(ids)s: those entries were not "
            "applied. Add or activate the channel that owns them, then replay this event.")
            % {"kind": kind, "ids": ", ".join(orphans)}))
    return routes


def _parked_key(request: InboundRequest) -> str:
    return graph.payload_key([], request.body)
