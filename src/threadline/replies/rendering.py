"""Rendering a template for one conversation: pick the variant by language, fill the placeholders,
and shape it for the channel (plain text everywhere, HTML too for email).

Variant order: the conversation's language, the contact's, the workspace's default, then any variant (so
a reply is never empty). Unknown placeholders render as empty strings; values are HTML-escaped in HTML.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from threadline.conversations.models import Conversation
from threadline.replies.models import Template, TemplateVariant
from threadline.routing.models import channel_kind_of
from threadline.tenancy.models import Membership

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_0-9]+)+)\s*\}\}")
HTML_CHANNELS = frozenset({"email"})


def _first_name(name: str) -> str:
    return (name or "").strip().split(" ")[0] if name else ""


PLACEHOLDERS: dict[str, Callable[[Conversation, Membership | None], Any]] = {
    "contact.name": lambda c, a: c.contact.name,
    "contact.first_name": lambda c, a: _first_name(c.contact.name),
    "contact.language": lambda c, a: c.contact.language,
    "conversation.id": lambda c, a: c.pk,
    "conversation.subject": lambda c, a: c.subject,
    "conversation.status": lambda c, a: c.status,
    "conversation.priority": lambda c, a: c.priority,
    "agent.name": lambda c, a: (a.user.name if a else (c.assignee.user.name if c.assignee else "")),
    "agent.first_name": lambda c, a: _first_name(a.user.name if a else (c.assignee.user.name if c.assignee else "")),
    "brand.name": lambda c, a: c.brand.name if c.brand else c.workspace.name,
    "workspace.name": lambda c, a: c.workspace.name,
}


@dataclass(frozen=True)
class Rendered:
    template_id: int
    language: str
    fallback: bool  # True when the conversation's language had no variant
    subject: str
    text: str
    html: str  # empty unless the channel shows HTML


def language_order(conversation: Conversation) -> list[str]:
    order = [conversation.language, conversation.contact.language, conversation.workspace.default_language]
    return [code for code in dict.fromkeys(order) if code]


def choose_variant(template: Template, conversation: Conversation) -> tuple[TemplateVariant | None, bool]:
    variants = {v.language: v for v in template.variants.all()}
    wanted = language_order(conversation)
    for position, code in enumerate(wanted):
        if code in variants:
            return variants[code], position > 0
    first = min(variants.values(), key=lambda v: v.pk, default=None)
    return first, True


def fill(text: str, values: dict[str, str], *, escape: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1), "")
        return htmllib.escape(value) if escape else value

    return PLACEHOLDER.sub(replace, text)


def text_to_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join("<p>" + htmllib.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def render(template: Template, conversation: Conversation, *, agent: Membership | None = None,
           channel_kind: str | None = None) -> Rendered:
    """The template as this conversation's customer will read it on `channel_kind` (default: its channel)."""
    variant, fallback = choose_variant(template, conversation)
    if variant is None:
        return Rendered(template.pk, "", True, "", "", "")
    values = {key: str(getter(conversation, agent) or "") for key, getter in PLACEHOLDERS.items()}
    text = fill(variant.text, values, escape=False)
    kind = channel_kind if channel_kind is not None else channel_kind_of(conversation)
    html = ""
    if kind in HTML_CHANNELS:
        html = fill(variant.html, values, escape=True) if variant.html else text_to_html(text)
    return Rendered(template.pk, variant.language, fallback, fill(variant.subject, values, escape=False), text, html)
