"""Writes for automations, and running them. Callers own the transaction.

Loop protection, in three layers (docs/automations.md):
1. causation: every event an automation's actions publish is recorded (`EventCause`) with its depth and
   the chain of automations that led to it; an event at depth MAX_DEPTH triggers nothing;
2. no self-trigger: a rule never fires on an event its own chain produced;
3. a cap: a rule runs at most `max_runs_per_day` times on one conversation in 24 hours.
Every run, and every stop, is logged in AutomationRun (the per-conversation execution log).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.automations import conditions as cond
from threadline.automations.events import AutomationNotificationRequested
from threadline.automations.models import Automation, AutomationRun, EventCause
from threadline.conversations.actions import record_event
from threadline.conversations.models import ACTIVE_STATUSES, Conversation, Direction, Message
from threadline.core import http
from threadline.core.batch_cache import cached
from threadline.core.errors import ThreadlineError, ValidationFailed
from threadline.core.prepared import Prepared
from threadline.events.bus import publish
from threadline.events.models import OutboxEvent
from threadline.replies import changes
from threadline.replies.actions import auto_response_suppressed, do_send_automatic_reply
from threadline.replies.models import Template
from threadline.tenancy.models import Membership, Workspace

MAX_DEPTH = 3
TRIGGERS = frozenset({
    "conversation.created", "conversation.updated", "message.received", "message.created", "language.set",
    "sla.warned", "sla.breached", "routing.escalated", "survey.answered",
})
OWN_TYPES = {"route", "send_reply", "notify", "webhook"}
ACTION_TYPES = changes.CHANGE_TYPES | OWN_TYPES
DRY_RUN_LIMIT = 500
TIME_RULE_BATCH = 2000


# ── definitions ──────────────────────────────────────────────────────────────────────────────────────
def check_actions(workspace: Workspace, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not actions:
        raise ValidationFailed(_("An automation needs at least one action."), code="invalid_action", field="actions")
    for index, action in enumerate(actions):
        kind = action.get("type") if isinstance(action, dict) else None
        if kind not in ACTION_TYPES:
            raise ValidationFailed(_("Unknown action %(t)s.") % {"t": kind}, code="invalid_action",
                                   field=f"actions[{index}]")
        if kind in changes.CHANGE_TYPES:
            changes.check_change(workspace.pk, index, action, allow_me=False)
        elif (kind == "send_reply" or (kind == "notify" and action.get("template_id") is not None)) and not (
                Template.objects.filter(workspace=workspace, pk=changes.positive_id(action.get("template_id"))).exists()):
            raise ValidationFailed(_("No such template."), code="invalid_action", field=f"actions[{index}]")
        elif kind == "webhook" and not str(action.get("url", "")).startswith(("http://", "https://")):
            raise ValidationFailed(_("A webhook action needs an http(s) url."), code="invalid_action",
                                   field=f"actions[{index}]")
        elif kind == "webhook":
            http.refuse_private_url(str(action["url"]), field=f"actions[{index}].url")
        if kind == "notify":
            ids = action.get("agent_ids", [])
            if not isinstance(ids, list) or Membership.objects.filter(
                    workspace=workspace, pk__in=[changes.positive_id(i) for i in ids]).count() != len(set(ids)):
                raise ValidationFailed(_("No such agent."), code="invalid_action", field=f"actions[{index}]")
    return actions


def check_definition(workspace: Workspace, *, kind: str, events: list[str], conditions: dict[str, Any],
                     actions: list[dict[str, Any]]) -> None:
    if kind not in Automation.Kind.values:
        raise ValidationFailed(_("Unknown automation kind."), code="invalid_kind", field="kind")
    if kind == Automation.Kind.EVENT and (not events or set(events) - TRIGGERS):
        raise ValidationFailed(_("Event automations need events among: %(e)s.") % {"e": ", ".join(sorted(TRIGGERS))},
                               code="invalid_events", field="events")
    if kind == Automation.Kind.TIME and events:
        raise ValidationFailed(_("Time rules have no events."), code="invalid_events", field="events")
    cond.check_conditions(conditions)
    check_actions(workspace, actions)


def do_save_automation(workspace: Workspace, automation: Automation | None, *, name: str, kind: str,
                       events: list[str], conditions: dict[str, Any], actions: list[dict[str, Any]],
                       position: int = 0, is_active: bool = True, max_runs_per_day: int = 10) -> Automation:
    name = (name or "").strip()[:200]
    if not name:
        raise ValidationFailed(_("An automation needs a name."), code="invalid_name", field="name")
    check_definition(workspace, kind=kind, events=events, conditions=conditions, actions=actions)
    created = automation is None
    automation = automation or Automation(workspace=workspace)
    automation.name, automation.kind, automation.events = name, kind, list(dict.fromkeys(events))
    automation.conditions, automation.actions, automation.position = conditions, actions, position
    automation.is_active, automation.max_runs_per_day = is_active, max_runs_per_day
    automation.save()
    record_change("automation.created" if created else "automation.updated", automation,
                  {"name": name, "kind": kind, "events": automation.events, "conditions": conditions,
                   "actions": actions, "active": is_active})
    return automation


# ── performing actions ───────────────────────────────────────────────────────────────────────────────
def perform(automation: Automation, conversation: Conversation, run_key: str) -> list[str]:
    """Run the automation's actions on the conversation, as the system (actor None), in order."""
    from threadline.automations.tasks import automation_webhook_task
    from threadline.routing.actions import do_route

    done = changes.apply_changes(None, conversation, automation.actions)
    for index, action in enumerate(automation.actions):
        kind = action["type"]
        if kind == "route":
            do_route(conversation)
        elif kind == "send_reply":
            if auto_response_suppressed(conversation):
                continue  # never answer an auto-reply, a bounce or bulk mail: that is how mail loops start
            template = Template.objects.get(workspace_id=conversation.workspace_id, pk=action["template_id"])
            do_send_automatic_reply(conversation, template)
        elif kind == "notify":
            recipients = action.get("agent_ids") or ([conversation.assignee_id] if conversation.assignee_id else [])
            text = str(action.get("text", ""))
            if action.get("template_id"):  # a notification template, in the conversation's language
                from threadline.replies.rendering import render

                text = render(Template.objects.get(workspace_id=conversation.workspace_id, pk=action["template_id"]),
                              conversation).text
            publish(AutomationNotificationRequested(
                workspace_id=conversation.workspace_id, conversation_id=conversation.pk, automation_id=automation.pk,
                recipient_ids=sorted(set(recipients)), text=text[:1000]))
        elif kind == "webhook":
            automation_webhook_task.enqueue(automation.pk, conversation.pk, index, run_key,
                                            unique_key=f"automation-webhook:{automation.pk}:{conversation.pk}:{index}:{run_key}"[:255])
        else:
            continue
        done.append(kind)
    return done


def _log(automation: Automation | None, conversation: Conversation, *, trigger: str, key: str, depth: int,
         outcome: str, performed: list[str] | None = None, error: str = "") -> AutomationRun | None:
    try:
        with transaction.atomic():
            return AutomationRun.objects.create(
                workspace_id=conversation.workspace_id, automation=automation, conversation=conversation,
                trigger=trigger, dedupe_key=key[:128], depth=depth, outcome=outcome, performed=performed or [],
                error=error[:2000])
    except IntegrityError:
        return None  # logged already by an earlier attempt of the same event


def _record_causes(workspace_id: int, conversation_id: int, after_id: int, depth: int, chain: list[int]) -> None:
    caused = OutboxEvent.objects.filter(pk__gt=after_id, workspace_id=workspace_id,
                                        payload__conversation_id=conversation_id).values_list("id", flat=True)
    EventCause.objects.bulk_create([EventCause(outbox_id=i, depth=depth, chain=chain) for i in caused],
                                   ignore_conflicts=True)


def run_one(automation: Automation, conversation: Conversation, context: dict[str, Any], at: dt.datetime, *,
            trigger: str, key: str, depth: int = 0, chain: list[int] | None = None) -> AutomationRun | None:
    """Evaluate one automation on one conversation and run it if it matches; at most once per `key`."""
    chain = chain or []
    if AutomationRun.objects.filter(automation=automation, conversation=conversation, dedupe_key=key[:128]).exists():
        return None
    if not cond.matches(automation.conditions, context, conversation, at):
        return None
    if automation.pk in chain:
        return _log(automation, conversation, trigger=trigger, key=key, depth=depth,
                    outcome=AutomationRun.Outcome.LOOP_STOPPED, error="its own actions caused this event")
    recent = AutomationRun.objects.filter(automation=automation, conversation=conversation,
                                          outcome=AutomationRun.Outcome.DONE,
                                          created_at__gte=at - dt.timedelta(hours=24)).count()
    if recent >= automation.max_runs_per_day:
        return _log(automation, conversation, trigger=trigger, key=key, depth=depth,
                    outcome=AutomationRun.Outcome.CAPPED, error=f"{recent} runs in 24 hours")
    before = OutboxEvent.objects.aggregate(m=Max("id"))["m"] or 0
    try:
        with transaction.atomic():
            performed = perform(automation, conversation, key)
            record_event(conversation, "automation_ran", automation_id=automation.pk, name=automation.name,
                         performed=performed)
    except ThreadlineError as exc:
        return _log(automation, conversation, trigger=trigger, key=key, depth=depth,
                    outcome=AutomationRun.Outcome.FAILED, error=f"{exc.code}: {exc.message}")
    _record_causes(conversation.workspace_id, conversation.pk, before, depth + 1, [*chain, automation.pk])
    return _log(automation, conversation, trigger=trigger, key=key, depth=depth, outcome=AutomationRun.Outcome.DONE,
                performed=performed)


def locked_conversation(conversation_id: int) -> Conversation | None:
    return (Conversation.objects.select_for_update(of=("self",))
            .select_related("contact", "workspace", "origin_channel", "last_inbound_channel", "team", "brand")
            .filter(pk=conversation_id, merged_into__isnull=True).first())


_EVENT_RULES = Prepared(lambda workspace_id: Automation.objects.filter(workspace_id=workspace_id,
                                                                       kind=Automation.Kind.EVENT, is_active=True))


def event_rules(event_type: str, workspace_id: int) -> list[Automation]:
    """The workspace's active event automations that `event_type` triggers, in order (read once per batch)."""
    active = cached(("automations.event", workspace_id), lambda: _EVENT_RULES.all(workspace_id))
    return [a for a in active if event_type in a.events]


def do_run_event(event_type: str, payload: dict[str, Any], outbox_id: int, at: dt.datetime) -> list[AutomationRun]:
    """Run the workspace's event automations for one outbox event, in order (each sees the previous ones'
    changes). Idempotent per outbox event."""
    rules = event_rules(event_type, payload["workspace_id"])
    if not rules:
        return []
    conversation = locked_conversation(payload["conversation_id"])
    if conversation is None:
        return []
    cause = EventCause.objects.filter(outbox_id=outbox_id).first()
    depth, chain = (cause.depth, list(cause.chain)) if cause else (0, [])
    key = f"event:{outbox_id}"
    if depth >= MAX_DEPTH:
        if not AutomationRun.objects.filter(automation=None, conversation=conversation, dedupe_key=key).exists():
            _log(None, conversation, trigger=event_type, key=key, depth=depth,
                 outcome=AutomationRun.Outcome.LOOP_STOPPED, error=f"chain {chain} reached depth {depth}")
        return []
    message = None
    if payload.get("message_id"):
        message = Message.objects.select_related("channel").filter(pk=payload["message_id"]).first()
        if message is not None and message.direction == Direction.INBOUND:
            from threadline.language.actions import ensure_detected

            ensure_detected(message)
            conversation.refresh_from_db(fields=["language"])
    runs = []
    for rule in rules:  # a later rule sees, and counts as caused by, the changes of the rules before it
        context = cond.build_context(conversation, at, event_type=event_type, payload=payload, message=message)
        run = run_one(rule, conversation, context, at, trigger=event_type, key=key, depth=depth, chain=chain)
        if run is not None:
            runs.append(run)
            if run.outcome == AutomationRun.Outcome.DONE:
                chain = [*chain, rule.pk]
    return runs


def time_rule_candidates(automation: Automation) -> Any:
    queryset = Conversation.objects.filter(workspace_id=automation.workspace_id, status__in=ACTIVE_STATUSES,
                                           merged_into__isnull=True)
    for item in automation.conditions.get("all", []):
        if item["field"] == "conversation.status" and item["op"] == "eq":
            queryset = queryset.filter(status=item.get("value"))
        elif item["field"] == "conversation.status" and item["op"] == "in":
            queryset = queryset.filter(status__in=item.get("value") or [])
    return queryset.order_by("id")


def do_run_time_rule(automation: Automation, conversation_id: int, at: dt.datetime) -> AutomationRun | None:
    """A time rule on one conversation: at most once per rule, conversation and status period."""
    conversation = locked_conversation(conversation_id)
    if conversation is None or conversation.status not in ACTIVE_STATUSES:
        return None
    key = f"time:{cond.status_since(conversation).isoformat()}"
    context = cond.build_context(conversation, at, event_type="time")
    return run_one(automation, conversation, context, at, trigger="time", key=key)


# ── dry run ──────────────────────────────────────────────────────────────────────────────────────────
def describe(actions: list[dict[str, Any]], conversation: Conversation) -> list[dict[str, Any]]:
    from threadline.replies.rendering import render

    planned = []
    for action in actions:
        item = dict(action)
        if action["type"] == "send_reply":
            template = Template.objects.filter(pk=action["template_id"]).first()
            if template is not None:
                rendered = render(template, conversation)
                item.update(language=rendered.language, preview=rendered.text[:500])
        planned.append(item)
    return planned


def dry_run(workspace: Workspace, *, kind: str, events: list[str], conditions: dict[str, Any],
            actions: list[dict[str, Any]], at: dt.datetime, limit: int = DRY_RUN_LIMIT) -> dict[str, Any]:
    """Which active conversations the definition matches now and what it would do; writes nothing.

    Event rules are evaluated as if their first event had just happened with the last inbound message.
    """
    check_definition(workspace, kind=kind, events=events, conditions=conditions, actions=actions)
    event_type = events[0] if kind == Automation.Kind.EVENT else "time"
    conversations = (Conversation.objects.filter(workspace=workspace, status__in=ACTIVE_STATUSES,
                                                 merged_into__isnull=True)
                     .select_related("contact", "workspace", "origin_channel", "last_inbound_channel", "brand")
                     .order_by("-id")[:limit])
    matched = []
    evaluated = 0
    for conversation in conversations:
        evaluated += 1
        message = (Message.objects.filter(conversation=conversation, direction=Direction.INBOUND)
                   .select_related("channel").order_by("-id").first())
        context = cond.build_context(conversation, at, event_type=event_type, message=message)
        if cond.matches(conditions, context, conversation, at):
            matched.append({"conversation_id": conversation.pk, "subject": conversation.subject,
                            "actions": describe(actions, conversation)})
    return {"evaluated": evaluated, "matched": len(matched), "conversations": matched}


def do_delete_automation(automation: Automation) -> None:
    """An admin deletes an automation; its execution log goes with it. The caller holds the transaction and has checked the actor is an admin."""
    record_change("automation.deleted", automation, {"name": automation.name})
    automation.delete()
