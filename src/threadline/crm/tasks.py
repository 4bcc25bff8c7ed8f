"""CRM jobs: log a solved conversation; read HubSpot's changed contacts a webhook named; poll Salesforce for
contacts changed since the last poll (every five minutes, scheduler)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from threadline.conversations.models import Conversation
from threadline.core.errors import RateLimited
from threadline.core.time import now
from threadline.crm.models import CrmConnection, Provider
from threadline.crm.providers.salesforce import Salesforce
from threadline.crm.sync import apply_changed, log_conversation, session
from threadline.jobs.registry import Retry, task


def _active(connection_id: int) -> CrmConnection | None:
    return CrmConnection.objects.select_related("workspace").filter(pk=connection_id, is_active=True).first()


@task(max_attempts=6)
def log_conversation_task(connection_id: int, conversation_id: int) -> str:
    connection = _active(connection_id)
    conversation = Conversation.objects.select_related("contact").filter(pk=conversation_id).first()
    if connection is None or conversation is None:
        return ""
    try:
        return log_conversation(connection, conversation)
    except RateLimited as exc:
        raise Retry(str(exc), after=exc.retry_after) from exc


@task(max_attempts=6)
def apply_hubspot_changes_task(connection_id: int, object_ids: list[str]) -> int:
    connection = _active(connection_id)
    if connection is None:
        return 0
    api, call = session(connection)
    return apply_changed(connection, [api.get(call, object_id) for object_id in object_ids[:100]])


@task(max_attempts=1)
def poll_crm_task() -> int:
    """Salesforce has no signed webhook for a connected app; its documented `updated` window is polled."""
    applied = 0
    for connection in CrmConnection.objects.select_related("workspace").filter(provider=Provider.SALESFORCE,
                                                                              is_active=True):
        start = connection.polled_until or now() - dt.timedelta(minutes=5)
        end = now() - dt.timedelta(seconds=60)  # Salesforce rounds to the minute; stay behind it
        if end - start < dt.timedelta(minutes=1):
            continue
        api, call = session(connection)
        if not isinstance(api, Salesforce):
            continue
        ids, covered = api.changed(call, start, end)
        applied += apply_changed(connection, api.many(call, ids))
        with transaction.atomic():
            CrmConnection.objects.filter(pk=connection.pk).update(polled_until=covered)
    return applied
