"""The conversation changes shared by macros and automations: one vocabulary, checked once.

    {"type": "set_status", "value": "pending"}      {"type": "set_priority", "value": "high"}
    {"type": "add_tags", "tags": ["vip"]}           {"type": "remove_tags", "tags": ["spam"]}
    {"type": "set_team", "team_id": 3}              {"type": "assign", "agent_id": 7}   ("me" in macros)
    {"type": "unassign"}
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from threadline.conversations.actions import UNSET, do_update_conversation
from threadline.conversations.models import Conversation, Priority, Status
from threadline.core.errors import ValidationFailed
from threadline.tenancy.models import Membership, Team

CHANGE_TYPES = {"set_status", "set_priority", "add_tags", "remove_tags", "set_team", "assign", "unassign"}


def _fail(message: str, index: int) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_action", field=f"actions[{index}]")


def check_change(workspace_id: int, index: int, action: dict[str, Any], *, allow_me: bool) -> dict[str, Any]:
    """Validate one change (ids must exist in the workspace); returns it unchanged."""
    kind = action.get("type")
    if kind == "set_status" and action.get("value") not in Status.values:
        raise _fail(_("set_status needs a known status."), index)
    if kind == "set_priority" and action.get("value") not in Priority.values:
        raise _fail(_("set_priority needs a known priority."), index)
    if kind in ("add_tags", "remove_tags"):
        tags = action.get("tags")
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t.strip() for t in tags):
            raise _fail(_("Tags are a non-empty list of names."), index)
    if kind == "set_team" and not Team.objects.filter(workspace_id=workspace_id, pk=positive_id(action.get("team_id"))).exists():
        raise _fail(_("No such team."), index)
    if kind == "assign":
        agent = action.get("agent_id")
        if not (allow_me and agent == "me") and not Membership.objects.filter(
                workspace_id=workspace_id, pk=positive_id(agent), is_active=True).exists():
            raise _fail(_("No such agent."), index)
    return action


def positive_id(value: Any) -> int:
    """`value` if it is a usable row id, else 0 (which matches no row)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63 else 0


def apply_changes(actor: Membership | None, conversation: Conversation, actions: list[dict[str, Any]]) -> list[str]:
    """Apply every change in `actions` that is in this vocabulary, in one update; returns what was done."""
    fields: dict[str, Any] = {}
    done: list[str] = []
    tags = set(conversation.tags.values_list("name", flat=True))
    tags_before = set(tags)
    for action in actions:
        kind = action.get("type")
        if kind == "set_status":
            fields["status"] = action["value"]
        elif kind == "set_priority":
            fields["priority"] = action["value"]
        elif kind == "add_tags":
            tags |= {t.strip() for t in action["tags"]}
        elif kind == "remove_tags":
            tags -= {t.strip() for t in action["tags"]}
        elif kind == "set_team":
            fields["team"] = Team.objects.get(workspace_id=conversation.workspace_id, pk=action["team_id"])
        elif kind == "assign":
            agent_id = actor.pk if action["agent_id"] == "me" and actor else action["agent_id"]
            fields["assignee"] = Membership.objects.get(workspace_id=conversation.workspace_id, pk=agent_id)
        elif kind == "unassign":
            fields["assignee"] = None
        else:
            continue
        done.append(kind)
    if tags != tags_before:
        fields["tags"] = sorted(tags)
    if fields:
        do_update_conversation(actor, conversation, status=fields.get("status"), priority=fields.get("priority"),
                               assignee=fields.get("assignee", UNSET), team=fields.get("team", UNSET),
                               tags=fields.get("tags"))
    return done
