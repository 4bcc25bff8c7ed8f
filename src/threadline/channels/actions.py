"""Writes for channels: create and configure (config validated by the adapter's schema, stored encrypted),
enable or disable, rotate a generated secret; note that a payload arrived (`last_event_at`); replay or dismiss
an inbound event that needs attention."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from pydantic import ValidationError

from threadline.audit.actions import record_change, update_action
from threadline.channels.models import Channel, InboundEvent
from threadline.channels.registry import adapter_for
from threadline.core import crypto
from threadline.core.errors import Conflict, ValidationFailed
from threadline.core.time import now
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

EVENT_MARK_EVERY = dt.timedelta(minutes=1)  # `last_event_at` is written at most this often per channel


def check_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    schema = adapter_for(kind).config_schema
    try:
        return schema.model_validate(config).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "config"
        raise ValidationFailed(
            _("Invalid channel configuration (%(field)s): %(msg)s") % {"field": field, "msg": first["msg"]},
            code="invalid_config", field=f"config.{field}",
        ) from exc


def do_create_channel(
    actor: Membership, kind: str, name: str, config: dict[str, Any], *, routing_key: str = ""
) -> Channel:
    require(actor, Permission.ADMIN_CHANNELS)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A channel needs a name."), field="name")
    clean = check_config(kind, config)
    channel = Channel.objects.create(
        workspace_id=actor.workspace_id, kind=kind, name=name[:200], routing_key=routing_key[:320],
        config_encrypted=crypto.encrypt_json(clean),
    )
    _config_saved(channel, clean)
    record_change("channel.created", channel, {"kind": kind, "name": channel.name}, actor=actor)
    return channel


def _config_saved(channel: Channel, config: dict[str, Any]) -> None:
    """The adapter's checks that need the database or the network (address ownership, outbound hosts)."""
    hook = getattr(adapter_for(channel.kind), "config_saved", None)
    if hook is not None:
        hook(channel, config)


def do_update_channel(
    actor: Membership, channel: Channel, *, name: str | None = None, config: dict[str, Any] | None = None,
    is_active: bool | None = None,
) -> Channel:
    """Change a channel; `config` is merged over the stored one, so secrets need not be sent again."""
    require(actor, Permission.ADMIN_CHANNELS)
    if name is not None:
        if not name.strip():
            raise ValidationFailed(_("A channel needs a name."), field="name")
        channel.name = name.strip()[:200]
    clean = None
    if config is not None:
        clean = check_config(channel.kind, {**channel.config, **config})
        channel.config_encrypted = crypto.encrypt_json(clean)
    if is_active is not None:
        channel.is_active = is_active
    channel.save()
    if clean is not None:
        _config_saved(channel, clean)
    record_change(update_action("channel", config), channel, {"config": sorted(config or {}), "active": is_active})
    return channel


def do_set_channel_active(actor: Membership, channel: Channel, active: bool, *, open_conversations: int = 0
                          ) -> Channel:
    """Enable or disable a channel. Disabling closes nothing: see `queries.disable_effects` for what follows."""
    require(actor, Permission.ADMIN_CHANNELS)
    if channel.is_active == active:
        return channel
    channel.is_active = active
    channel.save(update_fields=["is_active", "updated_at"])
    record_change("channel.enabled" if active else "channel.disabled", channel,
                  {"kind": channel.kind, "name": channel.name, "open_conversations": open_conversations}, actor=actor)
    return channel


def do_rotate_channel_secret(actor: Membership, channel: Channel, field: str, value: str) -> Channel:
    """Replace one generated secret of the config (a web chat's identity key, a verify token) with `value`."""
    require(actor, Permission.ADMIN_CHANNELS)
    if field not in adapter_for(channel.kind).config_schema.model_fields:
        raise ValidationFailed(_("This channel has no such setting."), code="unknown_field", field=field)
    clean = check_config(channel.kind, {**channel.config, field: value})
    channel.config_encrypted = crypto.encrypt_json(clean)
    channel.save(update_fields=["config_encrypted", "updated_at"])
    _config_saved(channel, clean)
    record_change("channel.secret_rotated", channel, {"field": field}, actor=actor)
    return channel


def note_event_received(channel: Channel) -> None:
    """Remember when the channel last accepted a payload, writing at most once a minute (the edge calls it
    for every accepted payload; the row read by the edge says whether the mark is stale)."""
    moment = now()
    last = channel.last_event_at
    if last is not None and moment - last < EVENT_MARK_EVERY:
        return
    Channel.objects.filter(pk=channel.pk).update(last_event_at=moment)
    channel.last_event_at = moment


def check_replayable(event: InboundEvent) -> None:
    if event.state == InboundEvent.State.PROCESSED:
        raise Conflict(_("This event was processed already; replaying it would change nothing."),
                       code="already_processed")


def do_replay_inbound_event(actor: Membership, event: InboundEvent) -> InboundEvent:
    """Run a stored payload through processing again (after a fix): the one-click replay.

    Messages already stored from it are not duplicated (each is kept once per provider id).
    """
    from threadline.channels.inbound import process_inbound_event_task

    require(actor, Permission.ADMIN_CHANNELS)
    check_replayable(event)
    event.state, event.error, event.error_code, event.attempts = InboundEvent.State.RECEIVED, "", "", 0
    event.replays += 1
    event.save(update_fields=["state", "error", "error_code", "attempts", "replays", "updated_at"])
    process_inbound_event_task.enqueue(event.pk, unique_key=f"inbound:{event.pk}:replay:{event.replays}")
    return event


def do_dismiss_inbound_event(actor: Membership, event: InboundEvent) -> InboundEvent:
    """An admin decided the payload needs nothing more: it leaves the needs-attention list, kept for audit."""
    require(actor, Permission.ADMIN_CHANNELS)
    check_replayable(event)
    event.state = InboundEvent.State.IGNORED
    event.save(update_fields=["state", "updated_at"])
    return event
