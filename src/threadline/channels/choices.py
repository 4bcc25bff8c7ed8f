"""Reply choices under an outbound message, as every channel kind reads them (see brief of issue 13).

An agent's interactive template carries `buttons` ({"id", "title"}); the answer bot's turns carry
`metadata["choices"]` ({"id", "label"}). Each kind renders them natively (WhatsApp reply buttons, Telegram
inline keyboard, LINE quick reply, Messenger/Instagram quick replies, web chat buttons), or as numbered text
where a channel has no buttons (SMS, WeChat): "Reply 1 for …". The customer's pick comes back as an inbound
message with `metadata["choice"]` = the id (numbers are mapped back by whoever offered them).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from threadline.channels.base import OutboundMessage


def buttons(message: OutboundMessage) -> list[dict[str, str]]:
    """The buttons to show under `message`: the interactive template's, else the bot's choices."""
    if message.template and message.template.get("name") == "interactive":
        return [{"id": str(b["id"]), "title": str(b["title"])} for b in message.template.get("buttons") or []]
    return [{"id": str(c.get("id", "")), "title": str(c.get("label", ""))}
            for c in message.metadata.get("choices") or [] if c.get("id") and c.get("label")]


def fitted(offered: list[dict[str, str]], limit: int, *, keep: str = "") -> list[dict[str, str]]:
    """At most `limit` choices for a channel that shows that many buttons (`capabilities.max_choices`; 0: no
    buttons, numbered text takes any number), the one whose id is `keep` (the bot's "talk to a person") kept
    at the end rather than cut."""
    if limit <= 0 or len(offered) <= limit:
        return offered
    kept = [c for c in offered if keep and c.get("id") == keep][:1]
    return [c for c in offered if c not in kept][:limit - len(kept)] + kept


def numbered(message: OutboundMessage) -> str:
    """The text with its choices as "Reply 1 for …, 2 for …" (channels without buttons)."""
    offered = buttons(message)
    if not offered:
        return message.text
    with translation.override(message.metadata.get("language") or None):
        options = ", ".join(_("%(n)d for %(label)s") % {"n": n, "label": b["title"]}
                            for n, b in enumerate(offered, 1))
        return f"{message.text}\n\n{_('Reply %(options)s.') % {'options': options}}"


def picked(metadata: dict[str, Any], choice_id: Any) -> dict[str, Any]:
    """The inbound metadata with the customer's pick (a button's id) as `choice`."""
    return {**metadata, "choice": str(choice_id)[:200]} if choice_id else metadata
