"""The automation builder's form ↔ an automation definition (docs/automations.md).

The form posts parallel lists, one entry per row:
    conditions: cond_group (all/any), cond_field, cond_op, cond_value
    actions:    act_type, act_value, act_text (notify's message)
A row whose field (or action type) is empty is skipped, so blank rows left for adding cost nothing. Values are
typed from the field and the operator: lists for in/not_in/contains_any (comma-separated), numbers for ids,
hours and comparisons, true/false for business_hours.open, nothing for is_set/is_not_set.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from threadline.automations.conditions import FIELDS, OPS
from threadline.core.errors import ValidationFailed

LIST_OPS = {"in", "not_in", "contains_any"}
NO_VALUE_OPS = {"is_set", "is_not_set"}
NUMBER_OPS = {"gt", "gte", "lt", "lte"}
NUMBER_FIELDS = {"conversation.team_id", "conversation.assignee_id", "conversation.brand_id",
                 "conversation.hours_in_status", "conversation.hours_since_created",
                 "conversation.hours_since_last_inbound", "conversation.hours_since_last_message"}
BOOLEAN_FIELDS = {"business_hours.open"}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

# What each action's value is (shown beside the builder; the keys are the action types).
ACTION_PARAMS = {
    "set_status": ("value", gettext_lazy("a status: new, open, pending, on_hold, solved, closed")),
    "set_priority": ("value", gettext_lazy("a priority: low, normal, high, urgent")),
    "add_tags": ("tags", gettext_lazy("tags, comma-separated")),
    "remove_tags": ("tags", gettext_lazy("tags, comma-separated")),
    "set_team": ("team_id", gettext_lazy("a team")),
    "assign": ("agent_id", gettext_lazy("an agent")),
    "unassign": ("", gettext_lazy("nothing")),
    "route": ("", gettext_lazy("nothing: routing picks the team and agent")),
    "send_reply": ("template_id", gettext_lazy("an automatic-reply template")),
    "notify": ("agent_ids", gettext_lazy("agents (comma-separated; empty: the assignee), and a message")),
    "webhook": ("url", gettext_lazy("an https:// address")),
}
ID_PARAMS = {"team_id", "agent_id", "template_id"}


def _scalar(field: str, op: str, raw: str, numbers: frozenset[str]) -> Any:
    raw = raw.strip()
    if field in BOOLEAN_FIELDS:
        return raw.lower() in ("true", "yes", "1", "on", "open")
    if (field in NUMBER_FIELDS or field in numbers or op in NUMBER_OPS) and _NUMBER.match(raw):
        return float(raw) if "." in raw else int(raw)
    return raw


def _row_error(message: str, group: str, index: int) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_condition", field=f"conditions.{group}[{index}]")


def conditions_from(data: QueryDict, numbers: frozenset[str] = frozenset()) -> dict[str, list[dict[str, Any]]]:
    """`numbers`: more fields whose values are numbers (the workspace's number custom fields)."""
    rows = zip(data.getlist("cond_group"), data.getlist("cond_field"), data.getlist("cond_op"),
               data.getlist("cond_value"), strict=False)
    found: dict[str, list[dict[str, Any]]] = {"all": [], "any": []}
    for group, field, op, raw in rows:
        field = field.strip()
        if not field:
            continue
        group = group if group in found else "all"
        index = len(found[group])
        if op not in OPS:
            raise _row_error(_("Choose an operator for %(field)s.") % {"field": field}, group, index)
        item: dict[str, Any] = {"field": field, "op": op}
        if op in LIST_OPS:
            item["value"] = [_scalar(field, op, part, numbers) for part in raw.split(",") if part.strip()]
            if not item["value"]:
                raise _row_error(_("%(field)s needs at least one value.") % {"field": field}, group, index)
        elif op not in NO_VALUE_OPS:
            item["value"] = _scalar(field, op, raw, numbers)
        found[group].append(item)
    return {group: items for group, items in found.items() if items}


def _id(raw: str, index: int) -> int:
    if not raw.strip().isdigit():
        raise ValidationFailed(_("Choose one from the list (an id)."), code="invalid_action", field=f"actions[{index}]")
    return int(raw.strip())


def actions_from(data: QueryDict) -> list[dict[str, Any]]:
    rows = zip(data.getlist("act_type"), data.getlist("act_value"), data.getlist("act_text"), strict=False)
    actions: list[dict[str, Any]] = []
    for kind, raw, text in rows:
        if not kind:
            continue
        index = len(actions)
        param = ACTION_PARAMS.get(kind, ("value", ""))[0]
        action: dict[str, Any] = {"type": kind}
        if param in ID_PARAMS:
            action[param] = _id(raw, index)
        elif param == "tags":
            action["tags"] = [t.strip() for t in raw.split(",") if t.strip()]
        elif param == "agent_ids":
            action["agent_ids"] = [_id(part, index) for part in raw.split(",") if part.strip()]
            action["text"] = text.strip()
        elif param:
            action[param] = raw.strip()
        actions.append(action)
    return actions


def definition_from(data: QueryDict, numbers: frozenset[str] = frozenset()) -> dict[str, Any]:
    kind = data.get("kind", "event")
    return {"kind": kind, "events": data.getlist("events") if kind == "event" else [],
            "conditions": conditions_from(data, numbers), "actions": actions_from(data)}


def number_fields(fields: Any) -> frozenset[str]:
    """The condition fields of the workspace's number custom fields (`CustomField` rows)."""
    prefix = {"contact": "contact.attributes.", "conversation": "conversation.custom."}
    return frozenset(f"{prefix[f.applies_to]}{f.key}" for f in fields if f.kind == "number")


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def condition_rows(conditions: dict[str, Any], *, blank: int = 1) -> list[dict[str, str]]:
    rows = [{"group": group, "field": item["field"], "op": item["op"], "value": _shown(item.get("value"))}
            for group in ("all", "any") for item in conditions.get(group, [])]
    return rows + [{"group": "all", "field": "", "op": "eq", "value": ""}] * blank


def action_rows(actions: list[dict[str, Any]], *, blank: int = 1) -> list[dict[str, str]]:
    rows = []
    for action in actions:
        param = ACTION_PARAMS.get(action["type"], ("value", ""))[0]
        rows.append({"type": action["type"], "value": _shown(action.get(param)) if param else "",
                     "text": str(action.get("text", ""))})
    return rows + [{"type": "", "value": "", "text": ""}] * blank


FIELD_CHOICES = sorted(FIELDS)
OP_CHOICES = [
    ("eq", gettext_lazy("is")), ("ne", gettext_lazy("is not")), ("in", gettext_lazy("is one of")),
    ("not_in", gettext_lazy("is none of")), ("contains", gettext_lazy("contains")),
    ("contains_any", gettext_lazy("contains any of")), ("gt", ">"), ("gte", "≥"), ("lt", "<"), ("lte", "≤"),
    ("is_set", gettext_lazy("is set")), ("is_not_set", gettext_lazy("is not set")),
]
ACTION_CHOICES = [
    ("set_status", gettext_lazy("Set status")), ("set_priority", gettext_lazy("Set priority")),
    ("add_tags", gettext_lazy("Add tags")), ("remove_tags", gettext_lazy("Remove tags")),
    ("set_team", gettext_lazy("Set team")), ("assign", gettext_lazy("Assign to")),
    ("unassign", gettext_lazy("Unassign")), ("route", gettext_lazy("Route")),
    ("send_reply", gettext_lazy("Send automatic reply")), ("notify", gettext_lazy("Notify agents")),
    ("webhook", gettext_lazy("Call a webhook")),
]
