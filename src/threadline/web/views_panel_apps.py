"""The customer panel's app cards (a fragment the workspace's script loads) and running a card's action."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from threadline.conversations.queries import access_conversation
from threadline.core.errors import ValidationFailed
from threadline.panelapps.actions import check_can_run_actions, do_record_action
from threadline.panelapps.context import context_for
from threadline.panelapps.queries import access_active_app, active_apps
from threadline.panelapps.showing import run_action, show
from threadline.tenancy.permissions import Permission, has_permission, require
from threadline.web.session import agent_view, wants_json


@require_GET
@agent_view
def cards_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.VIEW)
    conversation = access_conversation(agent, conversation_id, summary=False)
    shown = show(active_apps(agent.workspace_id), context_for(agent, conversation))
    return render(request, "web/_panel_apps.html", {"shown": shown, "conversation_id": conversation.pk,
                                                    "can_act": has_permission(agent, Permission.ASSIGN)})


@require_POST
@agent_view
def action_view(request: HttpRequest, conversation_id: int, app_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    check_can_run_actions(agent)
    if request.POST.get("confirm") != "yes":
        raise ValidationFailed(_("Confirm the action first."), field="confirm")
    conversation = access_conversation(agent, conversation_id, summary=False)
    app = access_active_app(agent, app_id)
    action = request.POST.get("action", "")
    result = run_action(app, context_for(agent, conversation), action)
    with transaction.atomic():
        do_record_action(agent, conversation, app, action, result.message)
    if wants_json(request):
        return JsonResponse({"message": result.message})
    return redirect(f"/app/c/{conversation_id}/")
