"""Which channel a recipient gets an outreach message on, under that channel's rules, or why none (read-only).

Candidates, best first: the contact's stated preferred channel, the one they last wrote from, their region's
default (`contacts/preferred.py`), then every other outreach kind they have an identity for. The first that
passes wins; when none does, the recipient is skipped with the reason of the most preferred candidate. A
candidate passes when the workspace has an active channel of that kind, the contact an identity it can
address, the consent ledger no opt-out for this channel and purpose (nor, for marketing where the workspace
requires it, a missing opt-in), and the channel's own rules (`check_send`) allow it: outside WhatsApp's 24-hour
window only the campaign's approved template may go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy

from threadline.channels.models import Channel
from threadline.channels.registry import ADAPTERS, adapter_for
from threadline.consent.models import ConsentAction
from threadline.consent.queries import is_opted_out, state
from threadline.contacts import preferred
from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.actions import check_send_allowed
from threadline.conversations.models import Conversation
from threadline.core.errors import ValidationFailed
from threadline.outreach.models import Campaign, OutreachSettings, Purpose

# The kinds outreach may start a conversation on, in the order tried after the preferences.
OUTREACH_KINDS = ("email", "whatsapp", "sms", "telegram", "line", "messenger", "instagram", "wechat")
ANY = "any"

REASONS: dict[str, Any] = {
    "no_channel": gettext_lazy("The workspace has no active channel of this kind."),
    "no_identity": gettext_lazy("The contact has no address this channel can reach."),
    "opted_out": gettext_lazy("The contact opted out of these messages on this channel."),
    "no_opt_in": gettext_lazy("Marketing needs the contact's opt-in on this channel, and there is none."),
    "no_approved_template": gettext_lazy("Outside WhatsApp's 24-hour window only an approved template may go, "
                                         "and the campaign has none that WhatsApp approved."),
    "cannot_deliver": gettext_lazy("The channel cannot deliver right now."),
    "no_reachable_channel": gettext_lazy("The contact has no channel outreach can use."),
    "empty_message": gettext_lazy("The campaign has no text for this contact."),
    "quiet_hours": gettext_lazy("Held until the end of quiet hours in the contact's time zone."),
    "rate_limited": gettext_lazy("Held by the channel's rate limit; it goes in the next minute."),
    "delivery_failed": gettext_lazy("The channel could not deliver the message."),
    "contact_merged": gettext_lazy("The contact was merged into another one."),
    "processing_error": gettext_lazy("This recipient could not be processed; it is tried again in 15 minutes."),
}


def reason_text(code: str, detail: str = "") -> str:
    found = REASONS.get(code)
    return str(found) if found is not None else (detail or code)


@dataclass(frozen=True)
class Route:
    channel: Channel
    identity: ContactIdentity
    choice: str  # stated, learned, regional, any
    template: dict[str, Any] | None = None


@dataclass(frozen=True)
class Refusal:
    code: str
    detail: str = ""
    channel: Channel | None = None


@dataclass
class Reacher:
    """Decides for many recipients of one campaign: the workspace's channels are read once."""

    campaign: Campaign
    settings: OutreachSettings
    channels: dict[str, Channel] = field(default_factory=dict)

    @classmethod
    def for_campaign(cls, campaign: Campaign, settings: OutreachSettings) -> Reacher:
        channels: dict[str, Channel] = {}
        for channel in Channel.objects.filter(workspace_id=campaign.workspace_id, is_active=True,
                                              kind__in=[k for k in OUTREACH_KINDS if k in ADAPTERS]).order_by("id"):
            channels.setdefault(channel.kind, channel)
        return cls(campaign, settings, channels)

    def candidates(self, contact: Contact, identities: Sequence[ContactIdentity], learned: str) -> list[tuple[str, str]]:
        found = [(k, why) for k, why in preferred.preferences(
            contact, identities, learned=learned, region_defaults=self.settings.region_defaults)
            if k in OUTREACH_KINDS]
        have = {i.kind for i in identities}
        for kind in OUTREACH_KINDS:
            if kind in self.channels and adapter_for(kind).identity_kind in have and kind not in [k for k, _w in found]:
                found.append((kind, ANY))
        return found

    def choose(self, contact: Contact, identities: Sequence[ContactIdentity], learned: str,
               conversation: Conversation, variables: Mapping[str, str], purpose: str = "") -> Route | Refusal:
        """The route for one recipient; `purpose` overrides the campaign's (a notification's own)."""
        first: Refusal | None = None
        for kind, why in self.candidates(contact, identities, learned):
            found = self._try(kind, why, identities, conversation, variables, purpose or self.campaign.purpose)
            if isinstance(found, Route):
                return found
            first = first or found
        return first or Refusal("no_reachable_channel")

    def _try(self, kind: str, why: str, identities: Sequence[ContactIdentity], conversation: Conversation,
             variables: Mapping[str, str], purpose: str) -> Route | Refusal:
        channel = self.channels.get(kind)
        if channel is None:
            return Refusal("no_channel")
        adapter = adapter_for(kind)
        identity = next((i for i in identities if i.kind == adapter.identity_kind), None)
        if identity is None:
            return Refusal("no_identity", channel=channel)
        if is_opted_out(channel, identity.kind, identity.address, purpose):
            return Refusal("opted_out", channel=channel)
        if purpose == Purpose.MARKETING and self.settings.marketing_requires_opt_in:
            current = state(channel, identity.kind, identity.address, purpose)
            if current is None or current.action != ConsentAction.OPT_IN:
                return Refusal("no_opt_in", channel=channel)
        blocked = getattr(adapter, "cannot_deliver", None)
        problem = blocked(channel) if blocked is not None else ""
        if problem:
            return Refusal("cannot_deliver", str(problem), channel)
        try:
            check_send_allowed(conversation, identity, channel)
        except ValidationFailed as exc:
            if exc.code != "outside_reply_window":
                return Refusal("opted_out" if exc.code == "no_consent" else exc.code, exc.message, channel)
            template = self.template(variables)
            if template is None:
                return Refusal("no_approved_template", exc.message, channel)
            try:
                check_send_allowed(conversation, identity, channel, template=template)
            except ValidationFailed as refused:
                return Refusal("no_approved_template", refused.message, channel)
            return Route(channel, identity, why, template)
        return Route(channel, identity, why)

    def template(self, variables: Mapping[str, str]) -> dict[str, Any] | None:
        config = self.campaign.whatsapp_template or {}
        if not config.get("name"):
            return None
        return {"name": config["name"], "language": config.get("language", ""),
                "variables": [str(variables.get(name, "")) for name in self.campaign.template_variables or []]}


PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def render(campaign: Campaign, language: str, default_language: str, variables: Mapping[str, str]) -> tuple[str, str]:
    """(text, language) for a contact: the campaign's text in their language (or its first two letters), else
    the workspace's default language, else the first one; {{placeholders}} filled ("" when unknown)."""
    messages = {k: v for k, v in (campaign.messages or {}).items() if str(v).strip()}
    for candidate in (language, language[:2], default_language, default_language[:2]):
        if candidate and candidate in messages:
            chosen = candidate
            break
    else:
        chosen = next(iter(messages), "")
    text = str(messages.get(chosen, ""))
    return PLACEHOLDER.sub(lambda m: str(variables.get(m.group(1), "")), text).strip(), chosen


def refusal_sentence(refusal: Refusal) -> str:
    sentence = reason_text(refusal.code, refusal.detail)
    return sentence if not refusal.detail or refusal.detail == sentence else f"{sentence} {refusal.detail}"[:1000]

