"""/app/admin/sla: SLA policies (targets in business minutes, the schedule they count in, the conversations
they apply to, what happens on a breach, their order), through the same actions as /api/v1/sla/policies."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from threadline.sla.actions import do_delete_policy, do_save_policy
from threadline.sla.models import SlaPolicy
from threadline.sla.queries import access_policy, list_policies, list_schedules
from threadline.tenancy.permissions import Permission
from threadline.tenancy.queries import list_teams
from threadline.web.admin_conditions import condition_choices, posted_conditions
from threadline.web.admin_crud import Screen
from threadline.web.admin_inputs import is_checked, optional_number, posted_ids, posted_list

TEMPLATE = "web/admin/sla.html"
URL = "/app/admin/sla"
TARGETS = ("first_response", "next_response", "resolution")
MAX_MINUTES = 60 * 24 * 365


def _context(request: HttpRequest) -> dict[str, Any]:
    me = request.agent  # type: ignore[attr-defined]
    policies = []
    for policy in list_policies(me).select_related("schedule").order_by("position", "id"):
        steps = {step["type"]: step.get("value", True) for step in policy.escalation}
        policies.append({"policy": policy, "steps": steps, "action": f"{URL}/{policy.pk}"})
    return {"policies": policies, "schedules": list(list_schedules(me).order_by("name")), **condition_choices(me),
            "teams": list(list_teams(me)),
            "next_position": (len(policies) + 1) * 10}


def _escalation(request: HttpRequest) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    if is_checked(request, "escalate_notify"):
        steps.append({"type": "notify"})
    if is_checked(request, "escalate_reassign"):
        steps.append({"type": "reassign"})
    if request.POST.get("escalate_priority"):
        steps.append({"type": "set_priority", "value": request.POST["escalate_priority"]})
    return steps


def _conditions(request: HttpRequest) -> dict[str, Any]:
    """The conditions routing rules share, and the SLA's own: the conversation's team and tags."""
    found = posted_conditions(request)
    teams, tags = posted_ids(request, "team_ids"), posted_list(request, "tags")
    return {**found, **({"team_ids": teams} if teams else {}), **({"tags": tags} if tags else {})}


def _save(request: HttpRequest, policy: SlaPolicy | None) -> SlaPolicy:
    me = request.agent  # type: ignore[attr-defined]
    targets = {f"{m}_minutes": optional_number(request, f"{m}_minutes", low=1, high=MAX_MINUTES) for m in TARGETS}
    return do_save_policy(
        me.workspace, policy, name=request.POST.get("name", ""),
        position=optional_number(request, "position", low=-10_000, high=10_000) or 0,
        is_active=is_checked(request, "is_active"), conditions=_conditions(request),
        warn_before_minutes=optional_number(request, "warn_before_minutes", high=MAX_MINUTES) or 0,
        schedule_id=optional_number(request, "schedule_id", low=1), escalation=_escalation(request), **targets)


sla_view, policy_update_view, policy_delete_view = Screen(
    permission=Permission.ADMIN_ROUTING, template=TEMPLATE, url=URL, context=_context, access=access_policy,
    save=_save, delete=do_delete_policy, created=gettext_lazy("SLA policy created."),
    saved=gettext_lazy("SLA policy saved."), deleted=gettext_lazy("SLA policy deleted."),
).views()
