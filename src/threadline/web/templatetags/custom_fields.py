"""The custom fields boxes of the agent workspace: a contact's fields in the customer panel and a conversation's
in its header, each a small form of the workspace's definitions (contacts.custom_fields)."""

from __future__ import annotations

from typing import Any

from django import template

from threadline.contacts.models import CustomField
from threadline.contacts.queries import list_fields
from threadline.tenancy.permissions import Permission, has_permission

register = template.Library()


@register.inclusion_tag("web/_custom_fields.html", takes_context=True)
def custom_fields_box(context: dict[str, Any], target: Any, conversation: Any) -> dict[str, Any]:
    """`target` is the contact or the conversation; its kind decides which fields and where the form posts. The
    conversation screen reads both kinds' definitions once (`custom_field_definitions` in its context)."""
    agent = getattr(context.get("request"), "agent", None)
    if agent is None or target is None:
        return {"rows": []}
    on_contact = target._meta.model_name == "contact"  # noqa: SLF001 - Django's public model metadata
    applies_to = CustomField.AppliesTo.CONTACT if on_contact else CustomField.AppliesTo.CONVERSATION
    values = (target.attributes if on_contact else target.custom_fields) or {}
    known = context.get("custom_field_definitions")
    fields = known[applies_to] if known is not None else list_fields(agent.workspace_id, applies_to)
    rows = [{"field": f, "value": values.get(f.key, "")} for f in fields]
    return {
        "rows": rows, "on_contact": on_contact, "csrf_token": context.get("csrf_token"),
        "action": f"/app/x/{'contacts' if on_contact else 'conversations'}/{target.pk}/fields",
        "back": f"/app/c/{conversation.pk}/", "editable": has_permission(agent, Permission.ASSIGN),
    }
