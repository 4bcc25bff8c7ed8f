"""/api/v1/channels: list, inspect, create and configure channels (writes are for admins).

Named `rest.py` because `channels/api/` is the API channel kind's folder.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import PageQuery, page, paginate
from threadline.channels.actions import do_create_channel, do_update_channel
from threadline.channels.queries import REDACTED, access_channel, list_channels
from threadline.channels.registry import kinds
from threadline.channels.schemas import (
    ChannelIn,
    ChannelKindOut,
    ChannelOut,
    ChannelPage,
    ChannelPatch,
    channel_out,
    kind_out,
)
from threadline.core.errors import ValidationFailed
from threadline.core.schemas import Id
from threadline.tenancy.queries import require_admin

router = Router(tags=["channels"])


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
    require_admin(agent)
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
    require_admin(agent)
    with transaction.atomic():
        target = access_channel(agent, channel_id)
        config = payload.config
        if config is not None:  # a secret sent back as shown (`********`) means "unchanged"
            config = {key: value for key, value in config.items() if value != REDACTED}
        do_update_channel(agent, target, name=payload.name, config=config, is_active=payload.is_active)
    return channel_out(access_channel(agent, channel_id))
