"""The "Answer bot" screen (/app/admin/bot): the bot of the workspace and of single channels (on or off, answer
from the knowledge base or an external bot platform, confidence threshold, turns, greeting, languages, the hours
people answer in), with how its conversations ended (deflection). Writes are the bot domain's actions."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from threadline.bot.actions import EXTERNAL_KINDS, do_save_settings, external_available
from threadline.bot.models import BotSettings, Mode
from threadline.bot.queries import KINDS, deflection, list_settings
from threadline.channels.models import Channel
from threadline.core.errors import ValidationFailed
from threadline.sla.queries import list_schedules
from threadline.tenancy.permissions import Permission
from threadline.web.admin_forms import listed, screen, submit
from threadline.web.views import _optional_int
from threadline.web.views_admin import admin_screen

URL = "/app/admin/bot"
TEMPLATE = "web/admin/bot.html"


def _page(request: HttpRequest, *, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    rows = {s.channel_id: s for s in list_settings(agent)}
    channels = list(Channel.objects.filter(workspace_id=agent.workspace_id, is_active=True, kind__in=KINDS)
                    .order_by("kind", "name"))
    scopes = [{"channel": None, "settings": rows.get(None) or BotSettings(workspace_id=agent.workspace_id)}]
    scopes += [{"channel": c, "settings": rows.get(c.pk) or BotSettings(workspace_id=agent.workspace_id, channel=c)}
               for c in channels]
    workspace = agent.workspace
    context: dict[str, Any] = {
        "scopes": scopes, "schedules": list_schedules(agent).order_by("name"), "modes": Mode.choices,
        "external": external_available(), "external_kinds": EXTERNAL_KINDS,
        "languages": workspace.languages or [code for code, _name in settings.LANGUAGES],
        "deflection": deflection(workspace),
    }
    return screen(request, TEMPLATE, context, error=error)


def _number(value: Any, field: str, kind: type = int) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("%(field)s must be a number.") % {"field": field}, code="invalid_number",
                               field=field) from exc


def _config(raw: str) -> dict[str, Any] | None:
    """The external platform's config as JSON; blank keeps the stored one."""
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(_("The platform settings must be JSON."), code="invalid_config",
                               field="external_config") from exc
    if not isinstance(value, dict):
        raise ValidationFailed(_("The platform settings must be a JSON object."), code="invalid_config",
                               field="external_config")
    return value


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def bot_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST

    def save() -> None:
        channel_id = _optional_int(data.get("channel") or None, "channel")
        existing = BotSettings.objects.filter(workspace_id=agent.workspace_id, channel_id=channel_id).first()
        do_save_settings(
            agent.workspace, existing, channel_id=channel_id, enabled=data.get("enabled") == "on",
            mode=data.get("mode") or Mode.ANSWER_BOT, external_kind=data.get("external_kind") or "",
            external_config=_config(data.get("external_config") or ""),
            threshold=_number(data.get("threshold") or "0.35", "threshold", float),
            max_turns=_number(data.get("max_turns") or "3", "max_turns"), greeting=data.get("greeting") or "",
            languages=listed(data, "languages"), schedule_id=_optional_int(data.get("schedule") or None, "schedule"),
            resolve_minutes=_number(data.get("resolve_minutes") or "30", "resolve_minutes"),
            abandon_hours=_number(data.get("abandon_hours") or "24", "abandon_hours"))

    return submit(request, save, _("Bot settings saved."), URL, lambda exc: _page(request, error=exc))
