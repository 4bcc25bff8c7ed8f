"""Reads for channels, `access_channel`, and what of a channel's config may be shown (never its secrets)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from pydantic import SecretBytes, SecretStr

from threadline.channels import intake
from threadline.channels.models import Channel, InboundEvent
from threadline.channels.registry import adapter_for, kinds
from threadline.core.errors import NotFound, ValidationFailed
from threadline.core.time import now
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, has_permission, require

REDACTED = "********"
SECRET_NAME = re.compile(r"secret|token|password|passwd|credential|(^|_)key$|api_?key|private", re.IGNORECASE)


def list_channels(actor: Membership) -> QuerySet[Channel]:
    return Channel.objects.filter(workspace_id=actor.workspace_id)


def access_channel(actor: Membership, channel_id: int) -> Channel:
    channel = list_channels(actor).filter(pk=channel_id).first()
    if channel is None:
        raise NotFound(_("No such channel."), code="channel_not_found")
    return channel


def secret_fields(kind: str) -> set[str]:
    """Config fields the adapter's schema declares secret (SecretStr, or `writeOnly` in its JSON schema)."""
    schema = adapter_for(kind).config_schema
    found = set()
    for name, info in schema.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if info.annotation in (SecretStr, SecretBytes) or extra.get("writeOnly"):
            found.add(name)
    return found


def is_secret(name: str, declared: set[str] | frozenset[str] = frozenset()) -> bool:
    return name in declared or bool(SECRET_NAME.search(name))


def _redact(value: Any, declared: set[str] | frozenset[str], found: list[str], path: str = "") -> Any:
    if not isinstance(value, dict):
        return value
    shown = {}
    for key, item in value.items():
        where = f"{path}{key}"
        if is_secret(str(key), declared if not path else frozenset()):
            if item not in (None, ""):
                found.append(where)
            shown[key] = REDACTED if item not in (None, "") else item
        else:
            shown[key] = _redact(item, declared, found, f"{where}.")
    return shown


def public_config(channel: Channel) -> tuple[dict[str, Any], list[str]]:
    """The channel's config with every secret value replaced by `********`, and the names of secrets set."""
    found: list[str] = []
    shown = _redact(channel.config, secret_fields(channel.kind), found)
    return shown, sorted(found)


def inbound_webhook_url(channel: Channel) -> str:
    """Where the provider posts this channel's inbound payloads."""
    return f"{settings.PUBLIC_URL}/hooks/{channel.kind}/{channel.pk}/"


# ── inbound events that need attention ───────────────────────────────────────────────────────────────
STUCK_AFTER = dt.timedelta(minutes=15)  # an accepted payload still unprocessed this long needs a look
EVENT_STATES = ("attention", *InboundEvent.State.values)


def needs_attention() -> Q:
    """Failed events, and events still waiting long after they arrived (a dead job, a stopped worker)."""
    stuck = Q(state=InboundEvent.State.RECEIVED, created_at__lt=now() - STUCK_AFTER)
    return Q(state=InboundEvent.State.FAILED) | stuck


def list_inbound_events(actor: Membership, *, state: str = "", channel_id: int | None = None
                        ) -> QuerySet[InboundEvent]:
    """The workspace's stored inbound payloads (admins): `state` is one of EVENT_STATES, or "" for all."""
    require(actor, Permission.ADMIN_CHANNELS)
    events = InboundEvent.objects.filter(workspace_id=actor.workspace_id).select_related("channel")
    if state == "attention":
        events = events.filter(needs_attention())
    elif state:
        if state not in EVENT_STATES:
            raise ValidationFailed(_("Unknown state %(state)s.") % {"state": state}, code="invalid_state",
                                   field="state")
        events = events.filter(state=state)
    if channel_id is not None:
        events = events.filter(channel_id=channel_id)
    return events


def access_inbound_event(actor: Membership, event_id: int, *, waiting: bool = False) -> InboundEvent:
    """The workspace's event (admins). `waiting`: also one acknowledged and still in the intake (ADR 0008),
    unsaved and "received", for reading only."""
    event = list_inbound_events(actor).filter(pk=event_id).first()
    if event is None and waiting:
        event = intake.queued(actor.workspace_id, event_id)
    if event is None:
        raise NotFound(_("No such inbound event."), code="inbound_event_not_found")
    return event


def attention_count(actor: Membership) -> int:
    """How many inbound events need an admin's attention (0 for agents, who cannot act on them)."""
    if not has_permission(actor, Permission.ADMIN_CHANNELS):
        return 0
    return InboundEvent.objects.filter(workspace_id=actor.workspace_id).filter(needs_attention()).count()


def shown_headers(event: InboundEvent) -> dict[str, str]:
    """The stored request headers, secret-bearing ones (a provider's secret token) shown as `********`."""
    return {str(k): REDACTED if is_secret(str(k)) or str(k).lower() == "authorization" else str(v)
            for k, v in (event.headers or {}).items()}


def payload_text(event: InboundEvent) -> str:
    return bytes(event.body).decode("utf-8", "replace")


def contact_label(contact: Any) -> str:
    """The first non-empty `contact_label` of the channel kinds that have one (see base.py)."""
    for kind in kinds():
        label = getattr(adapter_for(kind), "contact_label", None)
        text = label(contact) if label is not None else ""
        if text:
            return text
    return ""


def contact_context(contact: Any) -> dict[str, Any] | None:
    """The first `contact_context` of the channel kinds that have one (see base.py)."""
    for kind in kinds():
        context = getattr(adapter_for(kind), "contact_context", None)
        found = context(contact) if context is not None else None
        if found:
            return found
    return None
