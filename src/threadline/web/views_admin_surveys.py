"""The "Surveys" screen (/app/admin/surveys): CSAT, CES and NPS each on or off, with its throttle, the channel
kinds it goes on, its wording per language, NPS's schedule and the WhatsApp template used outside the 24-hour
window; and the workspace's quiet hours. Writes are the surveys domain's actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from threadline.channels.registry import kinds
from threadline.core.errors import ValidationFailed
from threadline.surveys.actions import do_save_survey, do_save_survey_settings
from threadline.surveys.models import ORDER, Kind, Survey
from threadline.surveys.queries import settings_of, surveys_of
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
        template = survey.whatsapp_template or {}
        rows.append({"kind": kind, "label": labels[kind], "survey": survey, "default": default_question(kind),
                     "template_scores": ", ".join(str(n) for n in template.get("scores") or []),
                     "wording": [(code, (survey.wording or {}).get(code, "")) for code in languages]})
    quiet = settings_of(agent)
    context: dict[str, Any] = {"rows": rows, "channel_kinds": kinds(), "quiet": quiet}
    return screen(request, TEMPLATE, context, error=error)


def _days(value: str, field: str = "throttle_days") -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise ValidationFailed(_("Give a number of days."), code=f"invalid_{field.removesuffix('_days')}",
                               field=field) from exc


def _time(value: str, field: str) -> dt.time | None:
    if not value.strip():
        return None
    try:
        return dt.time.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationFailed(_("Give a time of day such as 21:00."), code="invalid_quiet_hours",
                               field=field) from exc


def _template(data: Any) -> dict[str, Any]:
    scores = [part.strip() for part in (data.get("template_scores") or "").split(",") if part.strip()]
    return {"name": data.get("template_name", ""), "language": data.get("template_language", ""), "scores": scores}


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def surveys_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST

    if data.get("form") == "quiet":
        return submit(request, lambda: do_save_survey_settings(
            agent, quiet_start=_time(data.get("quiet_start", ""), "quiet_start"),
            quiet_end=_time(data.get("quiet_end", ""), "quiet_end")),
            _("Quiet hours saved."), URL, lambda exc: _page(request, error=exc))

    def save() -> None:
        wording = {key.removeprefix("wording_"): value for key, value in data.items() if key.startswith("wording_")}
        do_save_survey(agent, data.get("kind", ""), enabled=checked(data, "enabled"),
                       throttle_days=_days(data.get("throttle_days") or "30"),
                       channel_kinds=listed(data, "channel_kinds"), wording_by_language=wording,
                       schedule_days=_days(data.get("schedule_days") or "0", "schedule_days"),
                       whatsapp_template=_template(data))

    return submit(request, save, _("Survey saved."), URL, lambda exc: _page(request, error=exc))
