"""Where the customer panel's app cards go: a placeholder the workspace's script fills from
`/app/x/conversations/<id>/apps` (apps answer over the network: the conversation opens without waiting)."""

from __future__ import annotations

from typing import Any

from django import template

from threadline.panelapps.queries import active_apps

register = template.Library()


@register.inclusion_tag("web/_panel_apps_slot.html", takes_context=True)
def panel_apps_slot(context: dict[str, Any], conversation: Any) -> dict[str, Any]:
    agent = getattr(context.get("request"), "agent", None)
    shown = agent is not None and conversation is not None and bool(active_apps(agent.workspace_id))
    return {"shown": shown, "conversation": conversation}
