"""The "Canned replies and macros" screen (/app/admin/replies): canned replies (title, `/shortcut` the composer
expands, language variants, on/off) and macros (the changes they make, in the replies domain's vocabulary
`replies.changes`, and an optional canned reply sent first). Writes are the replies domain's (audited there)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from threadline.conversations.models import Priority, Status
from threadline.core.errors import NotFound
from threadline.replies.actions import do_delete_macro, do_delete_template, do_save_macro, do_save_template
from threadline.replies.models import Macro, Template
from threadline.replies.queries import access_macro, access_template, list_macros, list_templates
from threadline.tenancy.permissions import Permission
from threadline.tenancy.queries import list_agents, list_teams
from threadline.tenancy.workspace_settings import codes
from threadline.web.admin_forms import checked, screen, submit
from threadline.web.admin_variants import placeholders, posted_variants, variant_rows
from threadline.web.views import _optional_int
from threadline.web.views_admin import admin_screen

URL = "/app/admin/replies"
NO_CHANGE = ""


def access_canned(actor: Any, template_id: int) -> Template:
    template = access_template(actor, template_id)
    if template.kind != Template.Kind.CANNED:
        raise NotFound(_("No such canned reply."), code="template_not_found")
    return template


# ── macros: form ⇄ actions ───────────────────────────────────────────────────────────────────────────
def macro_actions(data: QueryDict) -> list[dict[str, Any]]:
    """The macro's changes from the form's fields, in the order they apply."""
    actions: list[dict[str, Any]] = []
    if data.get("set_status"):
        actions.append({"type": "set_status", "value": data["set_status"]})
    if data.get("set_priority"):
        actions.append({"type": "set_priority", "value": data["set_priority"]})
    for kind in ("add_tags", "remove_tags"):
        tags = codes(data.get(kind, ""))
        if tags:
            actions.append({"type": kind, "tags": tags})
    team = _optional_int(data.get("set_team"), "set_team")
    if team:
        actions.append({"type": "set_team", "team_id": team})
    assign = data.get("assign") or NO_CHANGE
    if assign == "unassign":
        actions.append({"type": "unassign"})
    elif assign == "me":
        actions.append({"type": "assign", "agent_id": "me"})
    elif assign:
        actions.append({"type": "assign", "agent_id": _optional_int(assign, "assign")})
    return actions


def macro_form(macro: Macro) -> dict[str, Any]:
    form: dict[str, Any] = {"name": macro.name, "description": macro.description, "is_active": macro.is_active,
                            "template": macro.template_id or ""}
    for action in macro.actions:
        kind = action.get("type")
        if kind in ("set_status", "set_priority"):
            form[kind] = action.get("value")
        elif kind in ("add_tags", "remove_tags"):
            form[kind] = ", ".join(action.get("tags", []))
        elif kind == "set_team":
            form["set_team"] = action.get("team_id")
        elif kind == "assign":
            form["assign"] = str(action.get("agent_id"))
        elif kind == "unassign":
            form["assign"] = "unassign"
    return form


def _save_macro(request: HttpRequest, macro: Macro | None) -> Macro:
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST
    template_id = _optional_int(data.get("template"), "template")
    if template_id is not None:
        access_canned(agent, template_id)  # another workspace's reply: 404
    return do_save_macro(agent.workspace, macro, name=data.get("name", ""), actions=macro_actions(data),
                         template_id=template_id, description=data.get("description", ""),
                         is_active=checked(data, "is_active"))


def _save_canned(request: HttpRequest, template: Template | None) -> Template:
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST
    return do_save_template(agent.workspace, template, name=data.get("name", ""), kind=Template.Kind.CANNED,
                            variants=posted_variants(data), shortcut=data.get("shortcut", ""),
                            is_active=checked(data, "is_active"))


# ── pages ────────────────────────────────────────────────────────────────────────────────────────────
def _choices(agent: Any) -> dict[str, Any]:
    return {"statuses": Status.choices, "priorities": Priority.choices, "teams": list_teams(agent),
            "agents": list_agents(agent).filter(is_active=True),
            "canned": list_templates(agent).filter(kind=Template.Kind.CANNED).order_by("name"),
            "placeholders": placeholders()}


def _list_page(request: HttpRequest, *, error: Exception | None = None, failed: str = "") -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    posted = request.POST if error else None
    context = {**_choices(agent), "macros": list_macros(agent).order_by("name"), "failed": failed,
               "form": posted if failed == "canned" else {"is_active": True},
               "macro_form": posted if failed == "macro" else {"is_active": True},
               "rows": variant_rows(None, posted if failed == "canned" else None,
                                    default_language=agent.workspace.default_language)}
    return screen(request, "web/admin/replies.html", context, error=error)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def replies_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _list_page(request)
    return submit(request, lambda: _save_canned(request, None), _("Canned reply created."), URL,
                  lambda exc: _list_page(request, error=exc, failed="canned"))


def _canned_page(request: HttpRequest, template: Template, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    form = request.POST if error else {"name": template.name, "shortcut": template.shortcut,
                                       "is_active": template.is_active}
    context = {**_choices(agent), "template": template, "form": form,
               "rows": variant_rows(template, request.POST if error else None)}
    return screen(request, "web/admin/reply.html", context, error=error)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def reply_view(request: HttpRequest, template_id: int) -> HttpResponse:
    template = access_canned(request.agent, template_id)  # type: ignore[attr-defined]
    if request.method != "POST":
        return _canned_page(request, template)
    return submit(request, lambda: _save_canned(request, template), _("Canned reply saved."),
                  f"{URL}/{template.pk}", lambda exc: _canned_page(request, template, exc))


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def reply_delete_view(request: HttpRequest, template_id: int) -> HttpResponse:
    template = access_canned(request.agent, template_id)  # type: ignore[attr-defined]
    return submit(request, lambda: do_delete_template(template), _("Canned reply deleted."), URL,
                  lambda exc: _canned_page(request, template, exc))


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def macros_view(request: HttpRequest) -> HttpResponse:
    return submit(request, lambda: _save_macro(request, None), _("Macro created."), URL,
                  lambda exc: _list_page(request, error=exc, failed="macro"))


def _macro_page(request: HttpRequest, macro: Macro, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    context = {**_choices(agent), "macro": macro, "macro_form": request.POST if error else macro_form(macro)}
    return screen(request, "web/admin/macro.html", context, error=error)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def macro_view(request: HttpRequest, macro_id: int) -> HttpResponse:
    macro = access_macro(request.agent, macro_id)  # type: ignore[attr-defined]
    if request.method != "POST":
        return _macro_page(request, macro)
    return submit(request, lambda: _save_macro(request, macro), _("Macro saved."), f"{URL}/macros/{macro.pk}",
                  lambda exc: _macro_page(request, macro, exc))


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def macro_delete_view(request: HttpRequest, macro_id: int) -> HttpResponse:
    macro = access_macro(request.agent, macro_id)  # type: ignore[attr-defined]
    return submit(request, lambda: do_delete_macro(macro), _("Macro deleted."), URL,
                  lambda exc: _macro_page(request, macro, exc))
