"""`{% workspace_switcher agent %}`: the current workspace's name, always shown, and a switcher to the member's
other workspaces (active seats only) when there are any. Switching posts to /app/x/workspace."""

from __future__ import annotations

from typing import Any

from django import template

from threadline.tenancy.models import Membership

register = template.Library()


@register.inclusion_tag("web/_workspace_switcher.html", takes_context=True)
def workspace_switcher(context: dict[str, Any], agent: Membership) -> dict[str, Any]:
    seats = (Membership.objects.filter(user_id=agent.user_id, is_active=True).select_related("workspace")
             .order_by("workspace__name"))
    request = context.get("request")
    return {"agent": agent, "workspaces": [seat.workspace for seat in seats], "csrf_token": context.get("csrf_token"),
            "back": request.path if request is not None else "/app/"}
