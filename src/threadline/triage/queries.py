"""Reads of the triage domain."""

from __future__ import annotations

from typing import Any

from threadline.core.crypto import decrypt_json
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require
from threadline.triage.models import TriageSettings
from threadline.triage.policy import Policy


def stored_settings(workspace_id: int) -> TriageSettings | None:
    return TriageSettings.objects.filter(workspace_id=workspace_id).first()


def policy_of(row: TriageSettings | None) -> Policy:
    if row is None:
        return Policy()
    provider: dict[str, Any] = {}
    if row.provider and row.provider_config:
        provider = {**decrypt_json(row.provider_config), "kind": row.provider}
    return Policy(urgent_words=tuple(row.urgent_words), topic_words=tuple(row.topic_words),
                  spam_words=tuple(row.spam_words), abuse_words=tuple(row.abuse_words), high_reach=row.high_reach,
                  praise_reach=row.praise_reach, complaint_below=row.complaint_below, praise_above=row.praise_above,
                  provider=provider)


def policy_for(workspace_id: int) -> Policy:
    """The workspace's triage policy (the defaults until it saves its own)."""
    return policy_of(stored_settings(workspace_id))


def access_settings(actor: Membership) -> TriageSettings:
    """The actor's workspace's settings (unsaved defaults when it has none); conversations.view reads them."""
    require(actor, Permission.VIEW)
    return stored_settings(actor.workspace_id) or TriageSettings(workspace_id=actor.workspace_id)
