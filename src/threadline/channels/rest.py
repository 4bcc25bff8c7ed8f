"""/api/v1/channels: list, inspect, create and configure channels (writes are for admins);
/api/v1/inbound-events: stored inbound payloads, those that need attention, replay (admins).

Named `rest.py` because `channels/api/` is the API channel kind's folder.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from pydantic import Field

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import PageQuery, page, paginate
from threadline.channels.actions import (
    do_create_channel,
    do_dismiss_inbound_event,
    do_replay_inbound_event,
    do_update_channel,
)
from threadline.channels.queries import (
    REDACTED,
    access_channel,
    access_inbound_event,
    list_channels,
    list_inbound_events,
)
from threadline.channels.registry import kinds
from threadline.channels.schemas import (
    ChannelIn,
    ChannelKindOut,
    ChannelOut,
    ChannelPage,
    ChannelPatch,
    InboundEventDetail,
    InboundEventOut,
    InboundEventPage,
    channel_out,
    inbound_event_out,
    kind_out,
)
from threadline.core.errors import ValidationFailed
from threadline.core.schemas import Id
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["channels"])
inbound_router = Router(tags=["inbound events"])


@router.get("", response=responses(ChannelPage), summary="List channels")
def channels(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    rows, cursor = paginate(list_channels(actor(request)), cursor=paging.cursor, limit=paging.limit,
                            descending=False)
    return page([channel_out(c) for c in rows], cursor)


@router.get("/kinds", response=responses(list[ChannelKindOut]), summary="Channel kinds and their config schemas")
def channel_kinds(request: HttpRequest) -> list[ChannelKindOut]:
    return [kind_out(kind) for kind in kinds()]


@router.post("", response=responses(ChannelOut, 201), summary="Create a channel (admins)")
def create_channel(request: HttpRequest, payload: ChannelIn) -> Status[ChannelOut]:
    agent = actor(request)
    require(agent, Permission.ADMIN_CHANNELS)
    if payload.kind not in kinds():
        raise ValidationFailed(_("Unknown channel kind %(kind)s.") % {"kind": payload.kind},
                               code="unknown_channel_kind", field="kind")
    with transaction.atomic():
        channel = do_create_channel(agent, payload.kind, payload.name, payload.config,
                                    routing_key=payload.routing_key)
    return Status(201, channel_out(channel))


@router.get("/{channel_id}", response=responses(ChannelOut), summary="Get a channel")
def channel(request: HttpRequest, channel_id: Id) -> ChannelOut:
    return channel_out(access_channel(actor(request), channel_id))


@router.patch("/{channel_id}", response=responses(ChannelOut), summary="Rename, (de)activate or configure (admins)")
def update_channel(request: HttpRequest, channel_id: Id, payload: ChannelPatch) -> ChannelOut:
    agent = actor(request)
    require(agent, Permission.ADMIN_CHANNELS)
    with transaction.atomic():
        target = access_channel(agent, channel_id)
        config = payload.config
        if config is not None:  # a secret sent back as shown (`********`) means "unchanged"
            config = {key: value for key, value in config.items() if value != REDACTED}
        do_update_channel(agent, target, name=payload.name, config=config, is_active=payload.is_active)
    return channel_out(access_channel(agent, channel_id))


class InboundEventQuery(PageQuery):
    state: str = Field("", description="attention (failed, or unprocessed for 15 minutes), failed, received, "
                                        "processed or ignored; empty for all")
    channel_id: Id | None = None


@inbound_router.get("", response=responses(InboundEventPage), summary="List inbound events (admins)")
def inbound_events(request: HttpRequest, params: Query[InboundEventQuery]) -> dict[str, Any]:
    events = list_inbound_events(actor(request), state=params.state, channel_id=params.channel_id)
    rows, cursor = paginate(events, cursor=params.cursor, limit=params.limit)
    return page([inbound_event_out(e) for e in rows], cursor)


@inbound_router.get("/{event_id}", response=responses(InboundEventDetail),
                    summary="An inbound event with its payload (admins)")
def inbound_event(request: HttpRequest, event_id: Id) -> InboundEventOut:
    return inbound_event_out(access_inbound_event(actor(request), event_id, waiting=True), detail=True)


def _act_on_event(request: HttpRequest, event_id: int, action: Any) -> InboundEventOut:
    agent = actor(request)
    with transaction.atomic():
        return inbound_event_out(action(agent, access_inbound_event(agent, event_id)))


@inbound_router.post("/{event_id}/replay", response=responses(InboundEventOut, 202),
                     summary="Process a stored payload again, after a fix (admins)")
def replay_inbound_event(request: HttpRequest, event_id: Id) -> Status[InboundEventOut]:
    return Status(202, _act_on_event(request, event_id, do_replay_inbound_event))


@inbound_router.post("/{event_id}/dismiss", response=responses(InboundEventOut),
                     summary="Take an event off the needs-attention list, keeping it (admins)")
def dismiss_inbound_event(request: HttpRequest, event_id: Id) -> InboundEventOut:
    return _act_on_event(request, event_id, do_dismiss_inbound_event)
