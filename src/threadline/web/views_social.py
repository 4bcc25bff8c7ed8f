"""The social inbox of /app/: public items by priority with their verdict, reasons, reach and thread
(`/app/social`), one item with the public reply workflow (`/app/social/<id>`: answer publicly, move to private,
hide, show, delete, do not answer; approve or discard a draft), and the workspace's settings and rules for
admins. Thin: reads from `social.queries`, writes through `social.actions` (docs/social.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from threadline.api.pagination import decode_cursor, encode_cursor
from threadline.core.errors import ValidationFailed
from threadline.social import actions, queries
from threadline.social.models import ActionKind, Category, Decision, ItemStatus, PublicAction, RuleAction
from threadline.tenancy.models import Team
from threadline.tenancy.permissions import Permission, has_permission, require
from threadline.web.session import agent_view, wants_json

PAGE = 50


@require_GET
@agent_view
def social_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    status = request.GET.get("status", ItemStatus.OPEN)
    items = queries.list_items(agent, status=status or None, decision=request.GET.get("decision") or None,
                               category=request.GET.get("category") or None)
    cursor = request.GET.get("cursor")
    if cursor:
        items = items.filter(pk__lt=decode_cursor(cursor))
    rows = list(items.order_by("-pk")[: PAGE + 1])
    shown = sorted(rows[:PAGE], key=lambda item: (-item.priority, -item.pk))
    admin = has_permission(agent, Permission.ADMIN_AUTOMATIONS)
    context = {
        "agent": agent, "items": [{"item": item, "reasons": queries.reasons_of(item)} for item in shown],
        "next_cursor": encode_cursor(rows[PAGE - 1].pk) if len(rows) > PAGE else None,
        "status": status, "decision": request.GET.get("decision", ""), "category": request.GET.get("category", ""),
        "statuses": [*ItemStatus.choices, (queries.WAITING, _("Waiting for approval"))],
        "decisions": Decision.choices, "categories": Category.choices,
        "settings": queries.settings_of(agent) if admin else None,
        "rules": queries.rules_of(agent) if admin else None,
        "rule_actions": RuleAction.choices,
        "teams": list(Team.objects.filter(workspace_id=agent.workspace_id).order_by("name")) if admin else [],
        "notice": request.GET.get("done", ""),
    }
    return render(request, "web/social.html", context)


@require_GET
@agent_view
def item_view(request: HttpRequest, item_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    item = queries.access_item(agent, item_id)
    return render(request, "web/social_item.html", {
        "agent": agent, "item": item, "reasons": queries.reasons_of(item), "thread": queries.thread_of(item),
        "actions": queries.actions_of(item), "can_reply": has_permission(agent, Permission.REPLY),
        "invitation": actions.settings_for(agent.workspace_id).private_invitation,
        "notice": request.GET.get("done", "")})


def _done(request: HttpRequest, action: PublicAction, notice: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"id": action.pk, "state": action.state, "message": notice})
    return redirect(f"/app/social/{action.item_id}?done={action.kind}")


def _on_item(do: Callable[[Any, Any, str], PublicAction], notice: str) -> Callable[..., HttpResponse]:
    @require_POST
    @agent_view
    def view(request: HttpRequest, item_id: int) -> HttpResponse:
        agent = request.agent  # type: ignore[attr-defined]
        require(agent, Permission.REPLY)
        with transaction.atomic():
            action = do(agent, queries.access_item(agent, item_id), request.POST.get("text", ""))
        return _done(request, action, str(notice))

    return view


reply_view = _on_item(lambda a, item, text: actions.do_reply_public(a, item, text), _("Your public reply is on its way."))
private_view = _on_item(lambda a, item, text: actions.do_move_private(a, item, text), _("Moved to private."))
hide_view = _on_item(lambda a, item, text: actions.do_moderate(a, item, ActionKind.HIDE, reason=text), _("Hiding it."))
unhide_view = _on_item(lambda a, item, text: actions.do_moderate(a, item, ActionKind.UNHIDE, reason=text),
                       _("Showing it again."))
delete_view = _on_item(lambda a, item, text: actions.do_moderate(a, item, ActionKind.DELETE, reason=text),
                       _("Deleting it."))
ignore_view = _on_item(lambda a, item, text: actions.do_not_answer(a, item, reason=text), _("Marked as not answered."))


def _on_action(do: Callable[[Any, PublicAction], PublicAction], notice: str) -> Callable[..., HttpResponse]:
    @require_POST
    @agent_view
    def view(request: HttpRequest, action_id: int) -> HttpResponse:
        agent = request.agent  # type: ignore[attr-defined]
        require(agent, Permission.REPLY)
        with transaction.atomic():
            action = do(agent, queries.access_action(agent, action_id))
        return _done(request, action, str(notice))

    return view


approve_view = _on_action(actions.do_approve, _("Approved: it is posted now."))
discard_view = _on_action(actions.do_discard, _("Draft discarded."))


@require_POST
@agent_view
def settings_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        actions.do_save_settings(agent, approval_required=request.POST.get("approval_required") == "on",
                                 private_invitation=request.POST.get("private_invitation", ""))
    return redirect("/app/social?done=settings")


def _number(value: str, field: str) -> int | None:
    if not value.strip():
        return None
    if not value.strip().isdigit():
        raise ValidationFailed(_("Enter a whole number."), code="invalid_number", field=field)
    return int(value)


@require_POST
@agent_view
def rule_new_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    queries.rules_of(agent)  # admins only, before anything is looked up
    form = request.POST
    team = None
    if form.get("team_id", "").isdigit():
        team = Team.objects.filter(pk=int(form["team_id"]), workspace_id=agent.workspace_id).first()
    with transaction.atomic():
        actions.do_save_rule(agent, None, {
            "name": form.get("name", ""), "action": form.get("action", ""), "team": team,
            "category": form.get("category", ""), "decision": form.get("decision", ""),
            "min_reach": _number(form.get("min_reach", ""), "min_reach"),
            "min_priority": _number(form.get("min_priority", ""), "min_priority"), "topic": form.get("topic", "")})
    return redirect("/app/social?done=rule")


@require_POST
@agent_view
def rule_delete_view(request: HttpRequest, rule_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        actions.do_delete_rule(agent, queries.access_rule(agent, rule_id))
    return redirect("/app/social?done=rule_deleted")
