"""The "Audit log" screen of /app/ (admins): the workspace's entries, filtered, paged, exportable."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from threadline.api.pagination import decode_cursor, encode_cursor
from threadline.audit.queries import ACTION_LABELS, export_lines, list_entries
from threadline.core.errors import ValidationFailed
from threadline.tenancy.queries import list_agents
from threadline.web.session import agent_view

PAGE = 50


def _day(value: str, field: str, *, end: bool = False) -> dt.datetime | None:
    """A date from the filter form as the start of that day (or of the next, for `until`) in the agent's zone."""
    if not value:
        return None
    day = parse_date(value) if len(value) <= 10 else None
    if day is None:
        raise ValidationFailed(_("Enter a date such as 2026-01-31."), code="invalid_date", field=field)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_current_timezone())
    return start + dt.timedelta(days=1) if end else start


def _filtered(request: HttpRequest) -> tuple[Any, dict[str, str]]:
    params = {k: (request.GET.get(k) or "").strip()[:64] for k in ("action", "actor", "since", "until")}
    entries = list_entries(request.agent, action=params["action"] or None,  # type: ignore[attr-defined]
                           actor_filter=params["actor"] or None, since=_day(params["since"], "since"),
                           until=_day(params["until"], "until", end=True))
    return entries, params


@require_GET
@agent_view
def audit_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    entries, params = _filtered(request)
    cursor = request.GET.get("cursor")
    if cursor:
        entries = entries.filter(pk__lt=decode_cursor(cursor))
    rows = list(entries.order_by("-pk")[: PAGE + 1])
    context = {
        "agent": agent, "params": params, "entries": rows[:PAGE], "labels": ACTION_LABELS,
        "actions": sorted(ACTION_LABELS.items(), key=lambda item: str(item[1])),
        "agents": list_agents(agent), "next_cursor": encode_cursor(rows[PAGE - 1].pk) if len(rows) > PAGE else None,
        "query": urlencode({k: v for k, v in params.items() if v}),
    }
    return render(request, "web/audit.html", context)


@require_GET
@agent_view
def audit_export_view(request: HttpRequest) -> HttpResponse:
    entries, _params = _filtered(request)
    fmt = "json" if request.GET.get("format") == "json" else "csv"
    response = StreamingHttpResponse(export_lines(entries, fmt),
                                     content_type="text/csv" if fmt == "csv" else "application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="audit.{"csv" if fmt == "csv" else "jsonl"}"'
    return response
