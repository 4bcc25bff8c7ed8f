"""The CRM lines of the customer panel: each connected CRM's record of the contact, its company and owner,
with a link to the record (read from what the last sync stored; no network on page render)."""

from __future__ import annotations

from typing import Any

from django import template

from threadline.crm.queries import links_of

register = template.Library()


@register.inclusion_tag("web/_crm.html")
def crm_box(contact: Any) -> dict[str, Any]:
    return {"links": list(links_of(contact)) if contact is not None else []}
