"""The Jira box of the customer panel: the conversation's linked issues with their status, and the forms to
file a new issue or link an existing one (agents who may update conversations; only when Jira is connected)."""

from __future__ import annotations

from typing import Any

from django import template

from threadline.jira.queries import connection_of, links_of
from threadline.tenancy.permissions import Permission, has_permission

register = template.Library()


@register.inclusion_tag("web/_jira.html", takes_context=True)
def jira_box(context: dict[str, Any], conversation: Any) -> dict[str, Any]:
    agent = getattr(context.get("request"), "agent", None)
    connection = connection_of(agent.workspace_id) if agent is not None else None
    if connection is None or conversation is None:
        return {"connected": False}
    base = connection.base_url.rstrip("/")
    links = [{"link": link, "url": f"{base}/browse/{link.issue_key}"} for link in links_of(conversation)]
    return {"connected": True, "links": links, "conversation": conversation, "csrf_token": context.get("csrf_token"),
            "editable": has_permission(agent, Permission.ASSIGN), "subject": conversation.subject or ""}
