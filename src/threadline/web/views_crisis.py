"""The crisis screens of /app/: the list (/app/crisis) and the crisis room (/app/crisis/<id>): why it opened,
every related item (social's public items when installed, else the detector's mentions), and what the team
switches on: a holding reply, the notice in the chat widget and the help center, a known-issue draft campaign
(when outreach is installed); closing by hand. Members who see conversations read them; acting needs
admin.automations (the crisis actions check it)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from threadline.crisis.actions import (
    do_close_crisis,
    do_draft_known_issue,
    do_save_notice,
    do_switch_holding_reply,
    holding_text,
    outreach_available,
)
from threadline.crisis.queries import (
    access_crisis,
    crises,
    describe,
    evidence,
    notice_of,
    related_items,
    series_label,
)
from threadline.tenancy.permissions import Permission, has_permission
from threadline.web.session import agent_view

PAGE = 100


@require_GET
@agent_view
def crisis_list_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    rows = [{"crisis": c, "what": describe(c), "label": series_label(c.key)} for c in crises(agent)[:PAGE]]
    return render(request, "web/crisis_list.html", {"agent": agent, "rows": rows})


@require_GET
@agent_view
def crisis_room_view(request: HttpRequest, crisis_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    crisis = access_crisis(agent, crisis_id)
    languages = agent.workspace.languages or [code for code, _name in settings.LANGUAGES]
    notice = notice_of(agent.workspace_id)
    texts = notice.texts if notice else {}
    context = {
        "agent": agent, "crisis": crisis, "what": describe(crisis), "label": series_label(crisis.key),
        "series": [(series_label(key), figures) for key, figures in crisis.why.get("series", {}).items()],
        "items": related_items(crisis), "evidence": evidence(crisis)[:PAGE],
        "can_act": has_permission(agent, Permission.ADMIN_AUTOMATIONS) and crisis.status == "open",
        "holding": crisis.holding_reply, "holding_default": holding_text(crisis),
        "notice": notice, "notice_texts": [(code, texts.get(code, "")) for code in languages],
        "outreach": outreach_available(), "done": request.GET.get("done", ""),
    }
    return render(request, "web/crisis_room.html", context)


def _room(crisis_id: int, done: str) -> HttpResponse:
    return redirect(f"/app/crisis/{crisis_id}?done={done}")


@require_POST
@agent_view
def crisis_close_view(request: HttpRequest, crisis_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        do_close_crisis(agent, access_crisis(agent, crisis_id, Permission.ADMIN_AUTOMATIONS))
    return _room(crisis_id, "closed")


@require_POST
@agent_view
def crisis_holding_reply_view(request: HttpRequest, crisis_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    on = request.POST.get("on") in ("1", "on", "true")
    with transaction.atomic():
        crisis = access_crisis(agent, crisis_id, Permission.ADMIN_AUTOMATIONS)
        do_switch_holding_reply(agent, crisis, on=on, text=request.POST.get("text", ""),
                                language=request.POST.get("language", ""))
    return _room(crisis_id, "holding-on" if on else "holding-off")


@require_POST
@agent_view
def crisis_notice_view(request: HttpRequest, crisis_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    texts = {key.removeprefix("text_"): value for key, value in request.POST.items() if key.startswith("text_")}
    active = request.POST.get("active") in ("1", "on", "true")
    with transaction.atomic():
        do_save_notice(agent, texts=texts, active=active,
                       crisis=access_crisis(agent, crisis_id, Permission.ADMIN_AUTOMATIONS))
    return _room(crisis_id, "notice-on" if active else "notice-off")


@require_POST
@agent_view
def crisis_known_issue_view(request: HttpRequest, crisis_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    texts = {key.removeprefix("text_"): value for key, value in request.POST.items() if key.startswith("text_")}
    with transaction.atomic():
        do_draft_known_issue(agent, access_crisis(agent, crisis_id, Permission.ADMIN_AUTOMATIONS), texts)
    return _room(crisis_id, "campaign")
