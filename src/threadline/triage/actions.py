"""Triage writes: an admin saves the workspace's keyword lists, thresholds and provider. The caller owns the
transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.core.crypto import decrypt_json, encrypt_json
from threadline.core.errors import ValidationFailed
from threadline.core.http import refuse_private_url
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require
from threadline.triage.models import Provider, TriageSettings
from threadline.triage.providers import PROVIDER_FIELDS, SECRET_FIELDS

MAX_WORDS = 200
MAX_WORD = 80
MAX_REACH = 1_000_000_000


@dataclass(frozen=True)
class SettingsInput:
    urgent_words: tuple[str, ...] = ()
    topic_words: tuple[str, ...] = ()
    spam_words: tuple[str, ...] = ()
    abuse_words: tuple[str, ...] = ()
    high_reach: int = 10_000
    praise_reach: int = 1_000
    complaint_below: float = -0.25
    praise_above: float = 0.3
    provider: str = ""
    provider_config: dict[str, Any] = field(default_factory=dict)  # a secret left empty keeps the stored one


def check_words(values: tuple[str, ...] | list[str], name: str) -> list[str]:
    words = list(dict.fromkeys(" ".join(str(v).split()).lower() for v in values if str(v).strip()))
    if len(words) > MAX_WORDS or any(len(w) > MAX_WORD for w in words):
        raise ValidationFailed(_("A list holds up to %(count)d words of up to %(length)d characters.")
                               % {"count": MAX_WORDS, "length": MAX_WORD}, code="invalid_words", field=name)
    return words


def check_provider(kind: str, config: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The provider's config to store: the fields it takes, a secret left empty kept from `stored`."""
    if kind not in Provider.values:
        raise ValidationFailed(_("Unknown provider."), code="invalid_provider", field="provider")
    if not kind:
        return {}
    wanted = PROVIDER_FIELDS[kind]
    clean = {name: str(config.get(name) or "").strip() for name in wanted}
    for name in SECRET_FIELDS & set(wanted):
        if not clean[name] and stored.get(name):
            clean[name] = stored[name]
    missing = [name for name, required in wanted.items() if required and not clean[name]]
    if missing:
        raise ValidationFailed(_("The provider needs: %(fields)s.") % {"fields": ", ".join(missing)},
                               code="invalid_provider_config", field="provider_config")
    if clean.get("base_url"):
        if not clean["base_url"].startswith(("https://", "http://")):
            raise ValidationFailed(_("The base URL is an http(s) URL."), code="invalid_provider_config",
                                   field="provider_config")
        refuse_private_url(clean["base_url"], field="provider_config")
    return clean


def check_settings(data: SettingsInput, stored: TriageSettings | None) -> dict[str, Any]:
    if not (0 < data.high_reach <= MAX_REACH and 0 <= data.praise_reach <= MAX_REACH):
        raise ValidationFailed(_("Reach thresholds are whole numbers of followers, from 1 to a billion."),
                               code="invalid_threshold", field="high_reach")
    if not (-1.0 <= data.complaint_below <= 0.0 <= data.praise_above <= 1.0):
        raise ValidationFailed(_("The complaint threshold is between -1 and 0, the praise threshold between 0 "
                                 "and 1."), code="invalid_threshold", field="complaint_below")
    previous = decrypt_json(stored.provider_config) if stored and stored.provider == data.provider else {}
    return {"urgent_words": check_words(data.urgent_words, "urgent_words"),
            "topic_words": check_words(data.topic_words, "topic_words"),
            "spam_words": check_words(data.spam_words, "spam_words"),
            "abuse_words": check_words(data.abuse_words, "abuse_words"),
            "high_reach": data.high_reach, "praise_reach": data.praise_reach,
            "complaint_below": data.complaint_below, "praise_above": data.praise_above,
            "provider": data.provider, "provider_config": check_provider(data.provider, data.provider_config,
                                                                         previous)}


def do_save_triage_settings(actor: Membership, data: SettingsInput) -> TriageSettings:
    """Create or replace the workspace's triage settings (admin.automations); audited without secrets."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    row = TriageSettings.objects.select_for_update().filter(workspace_id=actor.workspace_id).first()
    clean = check_settings(data, row)
    config = clean.pop("provider_config")
    row = row or TriageSettings(workspace_id=actor.workspace_id)
    for name, value in clean.items():
        setattr(row, name, value)
    row.provider_config = encrypt_json(config) if config else ""
    row.save()
    record_change("triage.settings_saved", row, {**{k: v for k, v in clean.items()},
                                                  "provider_fields": sorted(config)}, actor=actor)
    return row
