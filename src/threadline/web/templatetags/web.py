"""Template helpers of the agent workspace: times the browser re-formats in the agent's locale and zone,
channel labels, initials."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from threadline.web import graphemes

register = template.Library()

CHANNEL_KINDS = {
    "email": "✉", "sms": "✆", "whatsapp": "◉", "webchat": "🗨", "voice": "☎", "api": "⇄", "telegram": "✈",
    "messenger": "ⓜ", "instagram": "◎", "line": "Ⓛ", "wechat": "Ⓦ",
}


@register.simple_tag
def when(value: dt.datetime | None, style: str = "relative") -> str:
    """`<time>` with the moment in ISO form; the server's rendering is in the agent's zone, the script then
    shows it with Intl in the agent's language (relative times are refreshed every minute). Styles:
    `relative`, `datetime`, `countdown` (an SLA deadline: "due in 12 min" / "overdue by 5 min") and
    `duration` (time since: "3 h")."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return format_html('<time datetime="{}" data-style="{}" title="{}">{}</time>', value.isoformat(), style,
                       formats.date_format(local, "DATETIME_FORMAT"), formats.date_format(local, "SHORT_DATETIME_FORMAT"))


@register.filter
def cut(text: str, length: int = 80) -> str:
    """`text` cut to at most `length` user-perceived characters (grapheme clusters: a Thai consonant with its
    vowel and tone marks, a Hebrew letter with its points, an emoji sequence stay whole), with an ellipsis."""
    return graphemes.cut(text or "", int(length))


@register.filter
def channel_icon(kind: str) -> str:
    return CHANNEL_KINDS.get(kind or "", "•")


@register.filter
def initials(name: str) -> str:
    parts = [p for p in (name or "").replace("@", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


@register.filter
def agent_name(membership: Any) -> str:
    if membership is None:
        return _("Unassigned")
    return membership.user.name or membership.user.email


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def urlquery(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params or {})


@register.filter
def saved_count(counts: dict[str, int], view_id: int) -> Any:
    return (counts or {}).get(f"saved:{view_id}", "")


KIND_LABELS = {
    "email": gettext_lazy("Email"), "sms": gettext_lazy("SMS"), "whatsapp": gettext_lazy("WhatsApp"),
    "webchat": gettext_lazy("Web chat"), "voice": gettext_lazy("Phone"), "api": gettext_lazy("API"),
    "telegram": gettext_lazy("Telegram"), "messenger": gettext_lazy("Messenger"),
    "instagram": gettext_lazy("Instagram"), "line": gettext_lazy("LINE"), "wechat": gettext_lazy("WeChat"),
    "portal": gettext_lazy("Portal"),
}


@register.filter
def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind or "", kind or ""))  # one translation per row, not twelve


@register.filter
def contact_label(contact: Any) -> str:
    """The customer's name, else an address they wrote from, else a short visitor or customer number."""
    if contact is None:
        return _("Unknown customer")
    if contact.name:
        return contact.name
    identities = list(contact.identities.all())
    for kind in ("email", "phone", "whatsapp", "external"):
        for identity in identities:
            if identity.kind == kind:
                return identity.address
    for identity in identities:
        if identity.kind == "visitor":
            from threadline.channels.queries import contact_label

            where = contact_label(contact)
            if "@" in where:
                return where
            if where:
                return _("Visitor from %(place)s") % {"place": where}
            return _("Visitor %(id)s") % {"id": identity.address[:6]}
    return _("Customer #%(id)s") % {"id": contact.pk}


@register.filter
def failure_text(message: Any) -> str:
    """Why a reply did not go out, in words an agent can act on; the provider's own text stays in the details."""
    from threadline.channels.registry import ADAPTERS, adapter_for

    channel = message.channel
    adapter = adapter_for(channel.kind) if channel is not None and channel.kind in ADAPTERS else None
    blocked = getattr(adapter, "cannot_deliver", None)
    problem = blocked(channel) if blocked is not None else ""
    if problem:
        return str(problem)
    delivery = getattr(message, "delivery", None)
    name = channel.name if channel is not None else _("the channel")
    if delivery is not None and delivery.attempts > 1:
        return _("Not delivered: %(channel)s could not be reached after %(n)s attempts.") % {
            "channel": name, "n": delivery.attempts}
    return _("Not delivered: %(channel)s did not accept this reply.") % {"channel": name}
