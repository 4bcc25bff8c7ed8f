"""Request and response shapes of /api/v1/channels. Secrets are write-only: answers show `********`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from threadline.channels.models import Channel, InboundEvent
from threadline.channels.queries import (
    STUCK_AFTER,
    inbound_webhook_url,
    payload_text,
    public_config,
    shown_headers,
)
from threadline.channels.registry import adapter_for
from threadline.core.schemas import Input
from threadline.core.time import now


class ChannelKindOut(Schema):
    kind: str
    identity_kind: str = Field(description="The kind of address this channel's customers write from")
    capabilities: dict[str, Any]
    config_schema: dict[str, Any] = Field(description="JSON schema of the channel's `config`")


def kind_out(kind: str) -> ChannelKindOut:
    adapter = adapter_for(kind)
    capabilities = {name: getattr(adapter.capabilities, name) for name in adapter.capabilities.__dataclass_fields__}
    return ChannelKindOut(kind=kind, identity_kind=adapter.identity_kind, capabilities=capabilities,
                          config_schema=adapter.config_schema.model_json_schema())


class ChannelOut(Schema):
    id: int
    kind: str
    name: str
    provider: str
    routing_key: str
    is_active: bool
    config: dict[str, Any] = Field(description="The configuration, every secret value shown as `********`")
    secrets_set: list[str] = Field(description="The secret config keys that hold a value")
    inbound_webhook_url: str = Field(description="Where the provider posts this channel's inbound payloads")
    created_at: dt.datetime
    updated_at: dt.datetime


def channel_out(channel: Channel) -> ChannelOut:
    try:
        config, secrets_set = public_config(channel)
    except ValueError:  # encrypted under another SECRET_KEY: show nothing rather than fail
        config, secrets_set = {}, []
    return ChannelOut(
        id=channel.pk, kind=channel.kind, name=channel.name, provider=channel.provider,
        routing_key=channel.routing_key, is_active=channel.is_active, config=config, secrets_set=secrets_set,
        inbound_webhook_url=inbound_webhook_url(channel), created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


class ChannelPage(Schema):
    items: list[ChannelOut]
    next_cursor: str | None


class ChannelIn(Input):
    kind: str = Field(max_length=32, description="One of GET /channels/kinds")
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict, description="Validated by the kind's config schema")
    routing_key: str = Field("", max_length=320, description="The address, phone number or bot id it serves")


class ChannelPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    is_active: bool | None = None
    config: dict[str, Any] | None = Field(
        None, description="Merged over the stored config: send only what changes (secrets need not be sent again)"
    )


class InboundEventOut(Schema):
    id: int
    channel_id: int
    channel_kind: str
    channel_name: str
    state: str = Field(description="received, processed, ignored (dismissed) or failed")
    needs_attention: bool = Field(description="Failed, or still unprocessed long after it arrived")
    error_code: str = Field(description="Stable code of the failure, e.g. invalid, provider_refused, gave_up")
    reason: str = Field(description="Why it could not be processed, for a person")
    attempts: int
    replays: int = Field(description="How often an admin replayed it")
    received_at: dt.datetime
    updated_at: dt.datetime
    processed_at: dt.datetime | None


class InboundEventDetail(InboundEventOut):
    headers: dict[str, str] = Field(description="The request headers as stored, secret-bearing ones masked")
    payload: str = Field(description="The raw body as received (UTF-8, undecodable bytes replaced)")


class InboundEventPage(Schema):
    items: list[InboundEventOut]
    next_cursor: str | None


def inbound_event_out(event: InboundEvent, *, detail: bool = False) -> InboundEventOut:
    stuck = event.state == InboundEvent.State.RECEIVED and event.created_at < now() - STUCK_AFTER
    fields = dict(
        id=event.pk, channel_id=event.channel_id, channel_kind=event.channel.kind, channel_name=event.channel.name,
        state=event.state, needs_attention=event.state == InboundEvent.State.FAILED or stuck,
        error_code=event.error_code, reason=event.error, attempts=event.attempts, replays=event.replays,
        received_at=event.created_at, updated_at=event.updated_at, processed_at=event.processed_at,
    )
    if detail:
        return InboundEventDetail(**fields, headers=shown_headers(event), payload=payload_text(event))
    return InboundEventOut(**fields)
