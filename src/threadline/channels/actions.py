"""Writes for channels: create and configure (config validated by the adapter's schema, stored encrypted)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from pydantic import ValidationError

from threadline.channels.models import Channel
from threadline.channels.registry import adapter_for
from threadline.core import crypto
from threadline.core.errors import ValidationFailed
from threadline.tenancy.models import Membership
from threadline.tenancy.queries import require_admin


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
    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A channel needs a name."), field="name")
    clean = check_config(kind, config)
    return Channel.objects.create(
        workspace_id=actor.workspace_id, kind=kind, name=name[:200], routing_key=routing_key[:320],
        config_encrypted=crypto.encrypt_json(clean),
    )


def do_update_channel(
    actor: Membership, channel: Channel, *, name: str | None = None, config: dict[str, Any] | None = None,
    is_active: bool | None = None,
) -> Channel:
    """Change a channel; `config` is merged over the stored one, so secrets need not be sent again."""
    require_admin(actor)
    if name is not None:
        if not name.strip():
            raise ValidationFailed(_("A channel needs a name."), field="name")
        channel.name = name.strip()[:200]
    if config is not None:
        channel.config_encrypted = crypto.encrypt_json(check_config(channel.kind, {**channel.config, **config}))
    if is_active is not None:
        channel.is_active = is_active
    channel.save()
    return channel
