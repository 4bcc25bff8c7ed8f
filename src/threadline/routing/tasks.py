"""Routing jobs: retry conversations waiting for an agent (after capacity frees, and periodically)."""

from __future__ import annotations

from django.db import transaction

from threadline.conversations.models import Conversation
from threadline.jobs.registry import task
from threadline.routing.actions import do_route, waiting_conversations
from threadline.routing.models import TeamPolicy

BATCH = 200


@task(max_attempts=5)
def route_waiting_task(workspace_id: int) -> None:
    """Try to assign every waiting conversation of a workspace, oldest first; stops at the first full team."""
    full_teams: set[int] = set()
    for conversation_id in list(waiting_conversations(workspace_id).values_list("id", flat=True)[:BATCH]):
        with transaction.atomic():
            conversation = (Conversation.objects.select_for_update(of=("self",))
                            .select_related("team", "origin_channel", "last_inbound_channel")
                            .filter(pk=conversation_id, assignee__isnull=True).first())
            if conversation is None or conversation.team_id in full_teams:
                continue
            decision = do_route(conversation)
            if decision is not None and decision.assignee_id is None:
                full_teams.add(conversation.team_id)


@task(max_attempts=3)
def route_waiting_sweep_task() -> None:
    """The periodic safety net: every workspace with automatic teams gets a retry."""
    for workspace_id in set(TeamPolicy.objects.values_list("workspace_id", flat=True)):
        route_waiting_task.func(workspace_id)
