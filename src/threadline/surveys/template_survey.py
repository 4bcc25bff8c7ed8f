"""A survey outside a messaging window: an approved template of the channel (WhatsApp's, from its template
sync: the adapter's `provider_templates`) with quick-reply buttons, each button standing for one score as the
survey's `whatsapp_template` says ({"name", "language", "scores"}). The buttons carry the score's choice id as
their payload, so a press comes back like any other survey button (`metadata["choice"]`)."""

from __future__ import annotations

from typing import Any

from threadline.channels.models import Channel
from threadline.channels.registry import adapter_for
from threadline.surveys.models import Survey
from threadline.surveys.wording import choice_id

NO_TEMPLATE = "no_approved_template"


def _buttons(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for c in components if str(c.get("type", "")).upper() == "BUTTONS"
            for b in c.get("buttons") or [] if str(b.get("type", "")).upper() == "QUICK_REPLY"]


def _body(components: list[dict[str, Any]]) -> str:
    return next((str(c.get("text", "")) for c in components if str(c.get("type", "")).upper() == "BODY"), "")


def approved_template(survey: Survey, channel: Channel) -> Any | None:
    """The synced, approved template the survey names, with a quick-reply button per score and no variables
    to fill; None when there is none."""
    config = survey.whatsapp_template or {}
    adapter = adapter_for(channel.kind)
    if not config.get("name") or not hasattr(adapter, "provider_templates"):
        return None
    for row in adapter.provider_templates(channel).templates:
        if row.name != config["name"] or (config.get("language") and row.language != config["language"]):
            continue
        if (row.status == "APPROVED" and not row.variables
                and len(_buttons(row.components)) >= len(config.get("scores") or [])):
            return row
    return None


def template_message(survey: Survey, row: Any, request_id: int) -> tuple[dict[str, Any], str]:
    """The template to send (its buttons' payloads the scores' choice ids) and its text for the timeline."""
    scores = survey.whatsapp_template.get("scores") or []
    components = [{"type": "button", "sub_type": "quick_reply", "index": str(index),
                   "parameters": [{"type": "payload", "payload": choice_id(request_id, score)}]}
                  for index, score in enumerate(scores)]
    titles = [str(b.get("text", "")) for b in _buttons(row.components)]
    text = "\n".join([_body(row.components), " / ".join(titles)]).strip()
    return {"name": row.name, "language": row.language, "components": components}, text
