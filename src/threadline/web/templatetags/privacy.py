"""The contact panel's privacy box (members who may export or erase): export the customer's data, request, confirm or cancel erasure."""

from __future__ import annotations

from typing import Any

from django import template

from threadline.privacy.models import ContactExport
from threadline.privacy.queries import open_erasure_of, settings_for
from threadline.tenancy.permissions import Permission, has_permission

register = template.Library()


@register.inclusion_tag("web/_contact_privacy.html", takes_context=True)
def privacy_box(context: dict[str, Any], contact: Any, conversation: Any) -> dict[str, Any]:
    agent = getattr(context.get("request"), "agent", None)
    if agent is None or contact is None:
        return {"show": False}
    can_export, can_erase = has_permission(agent, Permission.EXPORT), has_permission(agent, Permission.ERASE)
    if not (can_export or can_erase):
        return {"show": False}
    return {
        "show": True, "can_export": can_export, "can_erase": can_erase, "contact": contact, "back": f"/app/c/{conversation.pk}/", "csrf_token": context.get("csrf_token"),
        "exports": list(ContactExport.objects.filter(workspace_id=agent.workspace_id, contact=contact)
                        .order_by("-pk")[:3]),
        "erasure": open_erasure_of(agent.workspace_id, contact.pk),
        "grace_days": settings_for(agent.workspace_id).erasure_grace_days,
    }
