"""/api/v1/automations: event triggers and time rules, a dry run against existing conversations, and the
execution log. Admins manage automations; every agent reads them and the log."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import page, paginate
from threadline.automations.actions import do_delete_automation, do_save_automation, dry_run
from threadline.automations.queries import access_automation, list_automations, list_runs
from threadline.automations.schemas import (
    AutomationDefinition,
    AutomationDryRunOut,
    AutomationIn,
    AutomationOut,
    AutomationRunPage,
    AutomationRunQuery,
)
from threadline.core.schemas import Id
from threadline.core.time import now
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["automations"])


@router.get("", response=responses(list[AutomationOut]), summary="Automations, in the order they run")
def automations(request: HttpRequest) -> Any:
    return list(list_automations(actor(request)).order_by("position", "id")[:1000])


@router.post("", response=responses(AutomationOut, 201), summary="Create an automation (admins)")
def create_automation(request: HttpRequest, payload: AutomationIn) -> tuple[int, Any]:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        return Status(201, do_save_automation(me.workspace, None, **payload.fields()))


@router.post("/dry-run", response=responses(AutomationDryRunOut),
             summary="Which open conversations a definition matches now, and what it would do; changes nothing")
def dry_run_definition(request: HttpRequest, payload: AutomationDefinition) -> dict[str, Any]:
    me = actor(request)
    return dry_run(me.workspace, **payload.definition(), at=now())


@router.get("/runs", response=responses(AutomationRunPage), summary="The execution log, newest first")
def runs(request: HttpRequest, query: Query[AutomationRunQuery]) -> dict[str, Any]:
    rows, cursor = paginate(list_runs(actor(request), conversation_id=query.conversation_id,
                                      automation_id=query.automation_id), cursor=query.cursor, limit=query.limit)
    return page(rows, cursor)


@router.get("/{automation_id}", response=responses(AutomationOut), summary="Get an automation")
def automation(request: HttpRequest, automation_id: Id) -> Any:
    return access_automation(actor(request), automation_id)


@router.put("/{automation_id}", response=responses(AutomationOut), summary="Replace an automation (admins)")
def replace_automation(request: HttpRequest, automation_id: Id, payload: AutomationIn) -> Any:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        return do_save_automation(me.workspace, access_automation(me, automation_id), **payload.fields())


@router.delete("/{automation_id}", response=responses(None, 204), summary="Delete an automation (admins)")
def delete_automation(request: HttpRequest, automation_id: Id) -> tuple[int, None]:
    me = actor(request)
    require(me, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        do_delete_automation(access_automation(me, automation_id))
    return Status(204, None)


@router.post("/{automation_id}/dry-run", response=responses(AutomationDryRunOut),
             summary="Dry run of a saved automation against the open conversations")
def dry_run_saved(request: HttpRequest, automation_id: Id) -> dict[str, Any]:
    me = actor(request)
    saved = access_automation(me, automation_id)
    return dry_run(me.workspace, kind=saved.kind, events=saved.events, conditions=saved.conditions,
                   actions=saved.actions, at=now())
