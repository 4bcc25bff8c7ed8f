"""Conditions: a flat context of fields for one conversation (and the event's message), and operators.

A condition is `{"field": "conversation.language", "op": "eq", "value": "he"}`. Fields are listed in
FIELDS; `contact.attributes.<name>` and `conversation.custom.<name>` reach custom data, `changes.<name>`
what a `conversation.updated` event changed. `business_hours.open` needs a `schedule_id` in the condition
(else the brand's schedule, else always open).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from threadline.conversations.models import Conversation, ConversationEvent, Message
from threadline.core.errors import ValidationFailed
from threadline.routing.models import channel_kind_of
from threadline.sla import businesshours
from threadline.sla.models import BusinessSchedule

OPS = {"eq", "ne", "in", "not_in", "contains", "contains_any", "gt", "gte", "lt", "lte", "is_set", "is_not_set"}
FIELDS = {
    "event.type", "conversation.status", "conversation.priority", "conversation.language", "conversation.team_id",
    "conversation.assignee_id", "conversation.brand_id", "conversation.tags", "conversation.subject",
    "conversation.channel_kind", "conversation.hours_in_status", "conversation.hours_since_created",
    "conversation.hours_since_last_inbound", "conversation.hours_since_last_message", "message.text",
    "message.language", "message.channel_kind", "message.direction", "contact.language", "contact.country",
    "contact.name", "business_hours.open", "sla.metric", "language.source",
    "survey.kind", "survey.score",
}
PREFIXES = ("contact.attributes.", "conversation.custom.", "changes.")


def check_conditions(conditions: dict[str, Any]) -> dict[str, Any]:
    if set(conditions) - {"all", "any"}:
        raise ValidationFailed(_("Conditions are {\"all\": [...], \"any\": [...]}."), code="invalid_condition",
                               field="conditions")
    for group in ("all", "any"):
        items = conditions.get(group, [])
        if not isinstance(items, list):
            raise ValidationFailed(_("Conditions are lists."), code="invalid_condition", field="conditions")
        for index, item in enumerate(items):
            field = item.get("field") if isinstance(item, dict) else None
            if not isinstance(field, str) or (field not in FIELDS and not field.startswith(PREFIXES)):
                raise ValidationFailed(_("Unknown field %(f)s.") % {"f": field}, code="invalid_condition",
                                       field=f"conditions.{group}[{index}]")
            if item.get("op") not in OPS:
                raise ValidationFailed(_("Unknown operator %(o)s.") % {"o": item.get("op")},
                                       code="invalid_condition", field=f"conditions.{group}[{index}]")
            if item["op"] in ("in", "not_in", "contains_any") and not isinstance(item.get("value"), list):
                raise ValidationFailed(_("This operator needs a list value."), code="invalid_condition",
                                       field=f"conditions.{group}[{index}]")
    return conditions


def _hours(since: dt.datetime | None, at: dt.datetime) -> float | None:
    return None if since is None else (at - since).total_seconds() / 3600


def status_since(conversation: Conversation) -> dt.datetime:
    """When the conversation entered its current status (its creation if it never changed)."""
    last = (ConversationEvent.objects.filter(conversation=conversation, kind__in=("status_changed", "reopened"))
            .order_by("-created_at", "-id").values_list("created_at", flat=True).first())
    return last or conversation.created_at


def build_context(conversation: Conversation, at: dt.datetime, *, event_type: str = "",
                  payload: dict[str, Any] | None = None, message: Message | None = None) -> dict[str, Any]:
    payload = payload or {}
    contact = conversation.contact
    context: dict[str, Any] = {
        "event.type": event_type,
        "conversation.status": conversation.status,
        "conversation.priority": conversation.priority,
        "conversation.language": conversation.language,
        "conversation.team_id": conversation.team_id,
        "conversation.assignee_id": conversation.assignee_id,
        "conversation.brand_id": conversation.brand_id,
        "conversation.tags": sorted(conversation.tags.values_list("name", flat=True)),
        "conversation.subject": conversation.subject,
        "conversation.channel_kind": channel_kind_of(conversation),
        "conversation.hours_in_status": _hours(status_since(conversation), at),
        "conversation.hours_since_created": _hours(conversation.created_at, at),
        "conversation.hours_since_last_inbound": _hours(conversation.last_inbound_at, at),
        "conversation.hours_since_last_message": _hours(conversation.last_message_at, at),
        "contact.language": contact.language,
        "contact.country": contact.country,
        "contact.name": contact.name,
        "sla.metric": payload.get("metric"),
        "language.source": payload.get("source"),
        "survey.kind": payload.get("kind") if event_type == "survey.answered" else None,
        "survey.score": payload.get("score") if event_type == "survey.answered" else None,
    }
    for key, value in (contact.attributes or {}).items():
        context[f"contact.attributes.{key}"] = value
    for key, value in (conversation.custom_fields or {}).items():
        context[f"conversation.custom.{key}"] = value
    for key, value in (payload.get("changes") or {}).items():
        context[f"changes.{key}"] = value
    if message is not None:
        context.update({"message.text": message.text, "message.language": message.language,
                        "message.channel_kind": message.channel.kind if message.channel else "",
                        "message.direction": message.direction})
    return context


def _business_open(conversation: Conversation, condition: dict[str, Any], at: dt.datetime) -> bool:
    schedule = None
    if condition.get("schedule_id"):
        schedule = BusinessSchedule.objects.filter(workspace_id=conversation.workspace_id,
                                                   pk=condition["schedule_id"]).first()
    elif conversation.brand_id:
        schedule = BusinessSchedule.objects.filter(brand_id=conversation.brand_id).first()
    return businesshours.is_open(schedule.calendar() if schedule else None, at)


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "is_set":
        return actual not in (None, "", [], {})
    if op == "is_not_set":
        return actual in (None, "", [], {})
    if op == "eq":
        return actual == expected
    if op == "ne":
        return actual != expected
    if op == "in":
        return actual in expected
    if op == "not_in":
        return actual not in expected
    if op == "contains":
        if isinstance(actual, list):
            return expected in actual
        return isinstance(actual, str) and str(expected).casefold() in actual.casefold()
    if op == "contains_any":
        if isinstance(actual, list):
            return any(item in actual for item in expected)
        return isinstance(actual, str) and any(str(word).casefold() in actual.casefold() for word in expected)
    try:
        if actual is None:
            return False
        return {"gt": actual > expected, "gte": actual >= expected, "lt": actual < expected,
                "lte": actual <= expected}[op]
    except TypeError:
        return False


def holds(condition: dict[str, Any], context: dict[str, Any], conversation: Conversation, at: dt.datetime) -> bool:
    field = condition["field"]
    actual = _business_open(conversation, condition, at) if field == "business_hours.open" else context.get(field)
    return _compare(condition["op"], actual, condition.get("value"))


def matches(conditions: dict[str, Any], context: dict[str, Any], conversation: Conversation, at: dt.datetime) -> bool:
    every = all(holds(c, context, conversation, at) for c in conditions.get("all", []))
    some = conditions.get("any")
    return every and (not some or any(holds(c, context, conversation, at) for c in some))
