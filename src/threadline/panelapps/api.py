"""/api/v1/panel-apps: the apps of the customer panel (admins), their cards for a conversation (agents) and
running one of a card's actions (agents who may update conversations)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.conversations.queries import access_conversation
from threadline.core.schemas import Id
from threadline.panelapps.actions import check_can_run_actions, do_delete_app, do_record_action, do_save_app
from threadline.panelapps.context import context_for
from threadline.panelapps.models import PanelApp
from threadline.panelapps.queries import access_active_app, access_app, active_apps, list_apps
from threadline.panelapps.schemas import (
    PanelActionIn,
    PanelActionOut,
    PanelAppIn,
    PanelAppOut,
    PanelAppPatch,
    PanelCardOut,
)
from threadline.panelapps.showing import run_action, show
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["panel apps"])


@router.get("", response=responses(list[PanelAppOut]), summary="The customer panel's apps (admins)")
def apps(request: HttpRequest) -> list[PanelApp]:
    return list(list_apps(actor(request)))


@router.post("", response=responses(PanelAppOut, 201), summary="Add an app to the customer panel (admins)")
def create_app(request: HttpRequest, payload: PanelAppIn) -> Status[PanelApp]:
    with transaction.atomic():
        app = do_save_app(actor(request), None, **payload.model_dump())
    return Status(201, app)


@router.patch("/{app_id}", response=responses(PanelAppOut), summary="Change an app (admins)")
def update_app(request: HttpRequest, app_id: Id, payload: PanelAppPatch) -> PanelApp:
    agent = actor(request)
    with transaction.atomic():
        app = access_app(agent, app_id)
        given = payload.model_dump(exclude_none=True)
        return do_save_app(agent, app, kind=app.kind, name=given.get("name", app.name),
                           base_url=given.get("base_url", app.base_url), secrets=given.get("secrets"),
                           is_active=given.get("is_active", app.is_active), position=given.get("position", app.position))


@router.delete("/{app_id}", response=responses(None, 204), summary="Remove an app (admins)")
def delete_app(request: HttpRequest, app_id: Id) -> Status[None]:
    agent = actor(request)
    with transaction.atomic():
        do_delete_app(agent, access_app(agent, app_id))
    return Status(204, None)


@router.get("/conversations/{conversation_id}/cards", response=responses(list[PanelCardOut]),
            summary="Each active app's card about the conversation's customer")
def cards(request: HttpRequest, conversation_id: Id) -> list[dict[str, Any]]:
    agent = actor(request)
    require(agent, Permission.VIEW)
    conversation = access_conversation(agent, conversation_id, summary=False)
    context = context_for(agent, conversation)
    return [{"app_id": s.app.pk, "name": s.app.name, "kind": s.app.kind, "error": s.error,
             "card": s.card.model_dump() if s.card else None} for s in show(active_apps(agent.workspace_id), context)]


@router.post("/{app_id}/conversations/{conversation_id}/actions", response=responses(PanelActionOut),
             summary="Run one of the actions an app's card offers (a refund)")
def run(request: HttpRequest, app_id: Id, conversation_id: Id, payload: PanelActionIn) -> dict[str, str]:
    agent = actor(request)
    check_can_run_actions(agent)
    conversation = access_conversation(agent, conversation_id, summary=False)
    app = access_active_app(agent, app_id)
    result = run_action(app, context_for(agent, conversation), payload.action)
    with transaction.atomic():
        do_record_action(agent, conversation, app, payload.action, result.message)
    return {"message": result.message}
