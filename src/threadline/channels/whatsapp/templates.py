"""Syncing a WhatsApp Business Account's message templates, and checking a template reply against them.

`do_sync_templates` pages through `GET {graph}/{waba_id}/message_templates` and mirrors every template
(status included), so `check_template` can refuse an unknown, unapproved or wrongly filled template before
the message is stored. Callers own the transaction.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from threadline.channels.meta import graph
from threadline.channels.models import Channel
from threadline.channels.whatsapp.models import MessageTemplate
from threadline.core.errors import ValidationFailed
from threadline.core.time import now

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
MAX_PAGES = 50


def count_variables(components: list[dict[str, Any]]) -> int:
    names: set[str] = set()
    for component in components:
        if str(component.get("type", "")).upper() in ("BODY", "HEADER") and component.get("format", "TEXT") == "TEXT":
            names.update(PLACEHOLDER.findall(str(component.get("text", ""))))
    return len(names)


def body_text(template: MessageTemplate, variables: list[str]) -> str:
    """The template's body with its variables filled in (the text shown on the timeline)."""
    body = next((c.get("text", "") for c in template.components if str(c.get("type", "")).upper() == "BODY"), "")
    values = {str(i + 1): v for i, v in enumerate(variables)}
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def synced(channel: Channel) -> Any:
    """The channel's templates as last synced, by name and language."""
    return MessageTemplate.objects.filter(channel=channel).order_by("name", "language")


def do_sync_templates(channel: Channel) -> int:
    """Mirror the provider's templates for this channel; returns how many were seen."""
    config = channel.config
    url: str | None = f"{config['graph_base_url'].rstrip('/')}/{config['business_account_id']}/message_templates?limit=100"
    seen: list[int] = []
    for _page in range(MAX_PAGES):
        if not url:
            break
        answer = graph.get_json(channel, url)
        for item in answer.get("data", []):
            components = item.get("components", []) or []
            template, _created = MessageTemplate.objects.update_or_create(
                channel=channel, name=str(item.get("name", ""))[:512], language=str(item.get("language", ""))[:16],
                defaults={"workspace_id": channel.workspace_id, "provider_id": str(item.get("id", ""))[:64],
                          "category": str(item.get("category", ""))[:32], "status": str(item.get("status", ""))[:32],
                          "components": components, "variables": count_variables(components), "synced_at": now()},
            )
            seen.append(template.pk)
        url = (answer.get("paging") or {}).get("next")
    MessageTemplate.objects.filter(channel=channel).exclude(pk__in=seen).delete()
    return len(seen)


def check_template(channel: Channel, template: dict[str, Any]) -> MessageTemplate:
    """The approved template a reply names, with the right number of variables, or ValidationFailed."""
    candidates = MessageTemplate.objects.filter(channel=channel, name=template["name"])
    if template.get("language"):
        candidates = candidates.filter(language=template["language"])
    found = candidates.order_by("id").first()
    if found is None:
        raise ValidationFailed(_("There is no WhatsApp template %(name)s on this number; sync templates first.")
                               % {"name": template["name"]}, code="unknown_template", field="template.name")
    if found.status != "APPROVED":
        raise ValidationFailed(_("The template %(name)s is %(status)s, not approved by WhatsApp.")
                               % {"name": found.name, "status": found.status.lower()},
                               code="template_not_approved", field="template.name")
    if "components" not in template and len(template.get("variables", [])) != found.variables:
        raise ValidationFailed(_("The template %(name)s needs %(n)d variables.") % {"name": found.name,
                               "n": found.variables}, code="template_variables", field="template.variables")
    return found
