"""/app/admin/routing: routing rules (conditions → candidate teams, in order; the first matching active rule
wins), moved up and down, switched on and off, and a preview of which rule a sample conversation would hit,
through the same actions as /api/v1/routing/rules."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from threadline.conversations.models import Conversation, Priority
from threadline.core.errors import NotFound
from threadline.routing.actions import (
    do_delete_rule,
    do_move_rule,
    do_save_rule,
    policies_by_team,
    target_team,
)
from threadline.routing.models import RoutingRule
from threadline.routing.queries import access_rule, list_rules
from threadline.tenancy.permissions import Permission
from threadline.tenancy.queries import list_teams
from threadline.web.admin_conditions import condition_choices, describe_conditions, posted_conditions
from threadline.web.admin_crud import Screen
from threadline.web.admin_forms import screen
from threadline.web.admin_inputs import is_checked, optional_number, posted_ids
from threadline.web.views_admin import admin_screen

TEMPLATE = "web/admin/routing.html"
URL = "/app/admin/routing"


def _context(request: HttpRequest) -> dict[str, Any]:
    me = request.agent  # type: ignore[attr-defined]
    teams = {t.pk: t for t in list_teams(me)}
    choices = condition_choices(me)
    rules = []
    for rule in list_rules(me).order_by("position", "id"):
        chosen = [teams[i] for i in rule.team_ids if i in teams]
        rules.append({"rule": rule, "teams": chosen, "action": f"{URL}/{rule.pk}",
                      "summary": describe_conditions(rule.conditions, choices),
                      "slots": [t.pk for t in chosen] + [None]})
    return {"rules": rules, "team_choices": list(teams.values()), **choices,
            "next_position": (len(rules) + 1) * 10, "new_slots": [None, None]}


def _save(request: HttpRequest, rule: RoutingRule | None) -> RoutingRule:
    me = request.agent  # type: ignore[attr-defined]
    return do_save_rule(me.workspace, rule, name=request.POST.get("name", ""),
                        position=optional_number(request, "position", low=-10_000, high=10_000) or 0,
                        is_active=is_checked(request, "is_active"), conditions=posted_conditions(request),
                        team_ids=posted_ids(request, "team_ids"))


RULES = Screen(
    permission=Permission.ADMIN_ROUTING, template=TEMPLATE, url=URL, context=_context, access=access_rule,
    save=_save, delete=do_delete_rule, created=gettext_lazy("Routing rule created."),
    saved=gettext_lazy("Routing rule saved."), deleted=gettext_lazy("Routing rule deleted."),
)
routing_view, rule_update_view, rule_delete_view = RULES.views()


@require_POST
@admin_screen(Permission.ADMIN_ROUTING)
def rule_toggle_view(request: HttpRequest, rule_id: int) -> HttpResponse:
    me = request.agent  # type: ignore[attr-defined]
    rule = access_rule(me, rule_id)
    done = _("Routing rule switched off.") if rule.is_active else _("Routing rule switched on.")
    return RULES.submit(request, lambda: do_save_rule(
        me.workspace, rule, name=rule.name, position=rule.position, is_active=not rule.is_active,
        conditions=rule.conditions, team_ids=rule.team_ids), done)


@require_POST
@admin_screen(Permission.ADMIN_ROUTING)
def rule_move_view(request: HttpRequest, rule_id: int, direction: str) -> HttpResponse:
    if direction not in ("up", "down"):
        raise NotFound(_("No such direction."), code="not_found")
    rule = access_rule(request.agent, rule_id)  # type: ignore[attr-defined]
    step = -1 if direction == "up" else 1
    return RULES.submit(request, lambda: do_move_rule(rule, step), _("Order saved."))


@require_GET
@admin_screen(Permission.ADMIN_ROUTING)
def preview_view(request: HttpRequest) -> HttpResponse:
    """Where a new conversation with these fields would go now, by the same rule matching routing uses."""
    me = request.agent  # type: ignore[attr-defined]
    priority = request.GET.get("priority", Priority.NORMAL)
    brand = request.GET.get("brand_id", "")
    sample = Conversation(workspace_id=me.workspace_id, language=request.GET.get("language", "").strip().lower(),
                          priority=priority if priority in Priority.values else Priority.NORMAL,
                          brand_id=int(brand) if brand.isdigit() else None)
    kind = request.GET.get("channel_kind", "")
    team, reason = target_team(sample, kind, policies_by_team(me.workspace_id))
    rule = list_rules(me).filter(pk=reason.get("rule_id")).first() if reason.get("rule_id") else None
    preview = {"team": team, "rule": rule, "open": reason.get("open"), "sample": request.GET}
    return screen(request, TEMPLATE, {**_context(request), "preview": preview})
