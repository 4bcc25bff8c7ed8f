"""Reads for channels, `access_channel`, and what of a channel's config may be shown (never its secrets)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from pydantic import SecretBytes, SecretStr

from threadline.channels.models import Channel
from threadline.channels.registry import adapter_for
from threadline.core.errors import NotFound
from threadline.tenancy.models import Membership

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
