"""The "Surveys" screen (/app/admin/surveys): CSAT, CES and NPS each on or off, with its throttle, the channel
kinds it goes on and its wording per language. Writes are the surveys domain's actions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from threadline.channels.registry import kinds
from threadline.core.errors import ValidationFailed
from threadline.surveys.actions import do_save_survey
from threadline.surveys.models import ORDER, Kind, Survey
from threadline.surveys.queries import surveys_of
from threadline.surveys.wording import default_question
from threadline.tenancy.permissions import Permission
from threadline.web.admin_forms import checked, listed, screen, submit
from threadline.web.views_admin import admin_screen

URL = "/app/admin/surveys"
TEMPLATE = "web/admin/surveys.html"


def _page(request: HttpRequest, *, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    labels = dict(Kind.choices)
    languages = agent.workspace.languages or [code for code, _name in settings.LANGUAGES]
    rows = []
    for kind, saved in zip(ORDER, surveys_of(agent), strict=True):
        survey = saved or Survey(workspace_id=agent.workspace_id, kind=kind)
        rows.append({"kind": kind, "label": labels[kind], "survey": survey, "default": default_question(kind),
                     "wording": [(code, (survey.wording or {}).get(code, "")) for code in languages]})
    context: dict[str, Any] = {"rows": rows, "channel_kinds": kinds()}
    return screen(request, TEMPLATE, context, error=error)


def _days(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise ValidationFailed(_("The throttle must be a number of days."), code="invalid_throttle",
                               field="throttle_days") from exc


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def surveys_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST

    def save() -> None:
        wording = {key.removeprefix("wording_"): value for key, value in data.items() if key.startswith("wording_")}
        do_save_survey(agent, data.get("kind", ""), enabled=checked(data, "enabled"),
                       throttle_days=_days(data.get("throttle_days") or "30"),
                       channel_kinds=listed(data, "channel_kinds"), wording_by_language=wording)

    return submit(request, save, _("Survey saved."), URL, lambda exc: _page(request, error=exc))
