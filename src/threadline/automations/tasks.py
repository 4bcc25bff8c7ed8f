"""Automation jobs: the periodic time rules, and the outbound webhook action."""

from __future__ import annotations

import json

import httpx
from django.db import transaction

from threadline.automations.actions import TIME_RULE_BATCH, do_run_time_rule, time_rule_candidates
from threadline.automations.models import Automation
from threadline.conversations.models import Conversation
from threadline.core import http
from threadline.core.time import now
from threadline.jobs.registry import PermanentFailure, Retry, task


@task(max_attempts=3)
def run_time_rules_task() -> None:
    """Evaluate every active time rule on the conversations it may concern (each in its own transaction)."""
    moment = now()
    for automation in Automation.objects.filter(kind=Automation.Kind.TIME, is_active=True):
        for conversation_id in list(time_rule_candidates(automation).values_list("id", flat=True)[:TIME_RULE_BATCH]):
            with transaction.atomic():
                do_run_time_rule(automation, conversation_id, moment)


@task(max_attempts=6)
def automation_webhook_task(automation_id: int, conversation_id: int, index: int, run_key: str) -> None:
    """POST the conversation's summary to the action's URL (retried on 5xx, 429 and network errors)."""
    automation = Automation.objects.filter(pk=automation_id).first()
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if automation is None or conversation is None or index >= len(automation.actions):
        return
    action = automation.actions[index]
    body = json.dumps({
        "automation_id": automation.pk, "automation": automation.name, "trigger": run_key,
        "conversation": {"id": conversation.pk, "status": conversation.status, "priority": conversation.priority,
                         "language": conversation.language, "subject": conversation.subject,
                         "team_id": conversation.team_id, "assignee_id": conversation.assignee_id},
    }, ensure_ascii=False).encode()
    try:
        response = http.post(action["url"], content=body, headers={"Content-Type": "application/json",
                                                                   "X-Threadline-Automation": str(automation.pk)})
    except http.DestinationRefused as exc:
        raise PermanentFailure(str(exc)) from exc
    except httpx.TransportError as exc:
        raise Retry(http.transport_failure(action["url"], exc)) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise Retry(f"answered {response.status_code}")
