"""/app/admin/automations: event triggers and time rules built from condition and action rows, switched on
and off, tried with the domain's dry run before (or after) saving, and each one's execution log, paged;
through the same actions as /api/v1/automations."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from threadline.automations.actions import TRIGGERS, do_delete_automation, do_save_automation, dry_run
from threadline.automations.models import Automation
from threadline.automations.queries import access_automation, list_automations, list_runs
from threadline.contacts.queries import list_fields
from threadline.core.errors import ValidationFailed
from threadline.core.time import now
from threadline.replies.models import Template
from threadline.tenancy.permissions import Permission
from threadline.tenancy.queries import list_agents, list_teams
from threadline.web import automation_builder as builder
from threadline.web.admin_forms import screen
from threadline.web.admin_inputs import form_submit, is_checked, optional_number
from threadline.web.views_admin import admin_screen

LIST_TEMPLATE = "web/admin/automations.html"
EDIT_TEMPLATE = "web/admin/automation.html"
URL = "/app/admin/automations"
RUNS_PER_PAGE = 25


def _builder_context(request: HttpRequest, automation: Automation | None,
                     definition: dict[str, Any] | None = None) -> dict[str, Any]:
    """The builder's choices and rows: from `definition` (what was posted) or the saved automation."""
    me = request.agent  # type: ignore[attr-defined]
    source = definition or ({"kind": automation.kind, "events": automation.events,
                             "conditions": automation.conditions, "actions": automation.actions}
                            if automation else {"kind": "event", "events": ["message.received"],
                                                "conditions": {}, "actions": []})
    context: dict[str, Any] = {
        "automation": automation, "definition": source,
        "cond_rows": builder.condition_rows(source["conditions"], blank=1 if source["conditions"] else 2),
        "act_rows": builder.action_rows(source["actions"]),
        "field_choices": builder.FIELD_CHOICES, "op_choices": builder.OP_CHOICES,
        "action_choices": builder.ACTION_CHOICES, "triggers": sorted(TRIGGERS),
        "params": {kind: str(hint) for kind, (_param, hint) in builder.ACTION_PARAMS.items()},
        "teams": list(list_teams(me)), "agents": list(list_agents(me).filter(is_active=True)),
        "templates": list(Template.objects.filter(workspace_id=me.workspace_id).order_by("name")),
        "action_url": f"{URL}/{automation.pk}" if automation else f"{URL}/new",
    }
    if automation is not None:
        runs = list_runs(me, automation_id=automation.pk).select_related("conversation").order_by("-id")
        context["runs"] = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return context


def _definition(request: HttpRequest) -> dict[str, Any]:
    me = request.agent  # type: ignore[attr-defined]
    return builder.definition_from(request.POST, builder.number_fields(list_fields(me.workspace_id)))


def _list_context(request: HttpRequest) -> dict[str, Any]:
    me = request.agent  # type: ignore[attr-defined]
    return {"automations": list(list_automations(me).order_by("position", "id"))}


def _save(request: HttpRequest, automation: Automation | None) -> Automation:
    me = request.agent  # type: ignore[attr-defined]
    return do_save_automation(
        me.workspace, automation, name=request.POST.get("name", ""), **_definition(request),
        position=optional_number(request, "position", low=-10_000, high=10_000) or 0,
        is_active=is_checked(request, "is_active"),
        max_runs_per_day=optional_number(request, "max_runs_per_day", low=1, high=1000) or 10)


def _edit(request: HttpRequest, automation: Automation | None) -> HttpResponse:
    if request.method == "GET":
        return screen(request, EDIT_TEMPLATE, _builder_context(request, automation))

    def again() -> dict[str, Any]:
        try:
            definition = _definition(request)
        except ValidationFailed:
            definition = None
        return _builder_context(request, automation, definition)

    saved: list[Automation] = []
    response = form_submit(request, lambda: saved.append(_save(request, automation)),
                           done=_("Automation saved."), back=f"{URL}/{automation.pk}" if automation else URL,
                           template=EDIT_TEMPLATE, context=again)
    if saved and automation is None:
        response["Location"] = f"{URL}/{saved[0].pk}"
    return response


@require_http_methods(["GET"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def automations_view(request: HttpRequest) -> HttpResponse:
    return screen(request, LIST_TEMPLATE, _list_context(request))


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def new_view(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def edit_view(request: HttpRequest, automation_id: int) -> HttpResponse:
    return _edit(request, access_automation(request.agent, automation_id))  # type: ignore[attr-defined]


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def dry_run_view(request: HttpRequest) -> HttpResponse:
    """The builder's rows as posted, evaluated by the domain's dry run against the open conversations;
    nothing is saved or changed. The builder comes back with the result under it."""
    me = request.agent  # type: ignore[attr-defined]
    automation_id = optional_number(request, "automation_id", low=1)
    automation = access_automation(me, automation_id) if automation_id else None
    try:
        definition = _definition(request)
        result = dry_run(me.workspace, **definition, at=now())
    except ValidationFailed as exc:
        context = _builder_context(request, automation)
        return screen(request, EDIT_TEMPLATE, {**context, "posted": request.POST}, error=exc)
    context = _builder_context(request, automation, definition)
    return screen(request, EDIT_TEMPLATE, {**context, "posted": request.POST, "dry_run": result})


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def toggle_view(request: HttpRequest, automation_id: int) -> HttpResponse:
    me = request.agent  # type: ignore[attr-defined]
    a = access_automation(me, automation_id)
    done = _("Automation switched off.") if a.is_active else _("Automation switched on.")
    return form_submit(request, lambda: do_save_automation(
        me.workspace, a, name=a.name, kind=a.kind, events=a.events, conditions=a.conditions, actions=a.actions,
        position=a.position, is_active=not a.is_active, max_runs_per_day=a.max_runs_per_day),
        done=done, back=URL, template=LIST_TEMPLATE, context=lambda: _list_context(request))


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def delete_view(request: HttpRequest, automation_id: int) -> HttpResponse:
    automation = access_automation(request.agent, automation_id)  # type: ignore[attr-defined]
    return form_submit(request, lambda: do_delete_automation(automation), done=_("Automation deleted."), back=URL,
                       template=LIST_TEMPLATE, context=lambda: _list_context(request))
