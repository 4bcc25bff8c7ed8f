"""The "Reports" screen of /app/ (analytics.view): the overview of docs/analytics.md's metrics with the filters,
charts drawn by Chart.js from the page's JSON (with tables of inline SVG bars as their accessible fallback),
drill-down links to the conversation list, and CSV exports."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from pydantic import ValidationError

from threadline.analytics import metrics
from threadline.analytics.export import attachment
from threadline.analytics.facts import local_day, zone_of
from threadline.analytics.metrics import Filters
from threadline.analytics.queries import FACT_COLUMNS, access_filters, fact_row
from threadline.analytics.schemas import MetricQuery
from threadline.channels.models import Channel
from threadline.conversations.models import ACTIVE_STATUSES, Status
from threadline.core.errors import ValidationFailed
from threadline.core.time import now
from threadline.tenancy.queries import list_agents
from threadline.web.reports_figures import duration, figures, overview_with_surveys, percent, previous_period
from threadline.web.session import agent_view
from threadline.web.templatetags.web import agent_name

PARAMS = ("start", "end", "channel_id", "agent_id", "language", "tag", "days")
EVERY_STATUS = ",".join(Status.values)
EVERYTHING = frozenset({"backlog", "channels", "days", "agents", "sla"})
# The pages of /app/reports: the overview (every figure and section), then one per area: its figures (by key,
# reports_figures.specs) and sections, each section with its chart and table.
AREAS: dict[str, tuple[Any, tuple[str, ...] | None, frozenset[str]]] = {
    "": (gettext_lazy("Overview"), None, EVERYTHING),
    "volume": (gettext_lazy("Volume"), (), frozenset({"backlog", "channels", "days"})),
    "times": (gettext_lazy("Response and resolution times"), (
        "first_response_median", "first_response_p90", "next_response_median", "resolution_median",
        "resolution_p90"), frozenset()),
    "quality": (gettext_lazy("Reopens, repeat contact and the bot"), (
        "reopen_rate", "fcr_rate", "repeat_rate", "switch_rate", "explain_twice_rate", "bot_deflection"), frozenset()),
    "satisfaction": (gettext_lazy("Satisfaction"), ("csat", "nps", "ces"), frozenset({"agents"})),
    "agents": (gettext_lazy("Agents"), (), frozenset({"agents"})),
    "sla": (gettext_lazy("SLA"), (), frozenset({"sla"})),
}


def _query(request: HttpRequest) -> tuple[MetricQuery, dict[str, str]]:
    params = {k: (request.GET.get(k) or "").strip()[:100] for k in PARAMS}
    try:
        query = MetricQuery(**{k: v for k, v in params.items() if v})
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][-1]) if exc.errors() else ""
        raise ValidationFailed(_("Check the filters: %(field)s is not valid.") % {"field": field},
                               code="invalid_filter", field=field) from exc
    return query, params


def bars(rows: list[tuple[str, int, str]]) -> list[dict[str, Any]]:
    """(label, value, link) rows with each bar's length in percent of the largest (SVG viewBox units)."""
    top = max((value for _label, value, _link in rows), default=0) or 1
    return [{"label": label, "value": value, "width": round(100 * value / top, 1), "link": link}
            for label, value, link in rows]


def _chart(title: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One chart's figures for reports_charts.js (the same rows as the table beside it)."""
    return {"title": title, "labels": [row["label"] for row in rows], "values": [row["value"] for row in rows],
            "links": [row["link"] for row in rows] if any(row["link"] for row in rows) else None}


def _list_link(f: Filters, **extra: Any) -> str:
    """The /app/ conversation list with the report's filters that it supports (it has no date range)."""
    params: dict[str, Any] = {"status": EVERY_STATUS}
    if f.channel_id:
        params["channel"] = f.channel_id
    if f.agent_id:
        params["assignee"] = f.agent_id
    for name in ("language", "tag"):
        if getattr(f, name):
            params[name] = getattr(f, name)
    params.update({k: v for k, v in extra.items() if v is not None})
    return "/app/?" + urlencode(params)


@require_GET
@agent_view
def reports_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    query, params = _query(request)
    f = access_filters(agent, query)
    area = request.GET.get("area", "")
    if area not in AREAS:
        raise ValidationFailed(_("No such report page."), code="invalid_area", field="area")
    _title, keys, sections = AREAS[area]
    overview = overview_with_surveys(f, query.days)
    previous = previous_period(f, local_day(now(), zone_of(agent.workspace_id)))
    before = overview_with_surveys(previous, query.days) if previous is not None else None
    channels = dict(Channel.objects.filter(workspace_id=agent.workspace_id).values_list("pk", "name"))
    members = {m.pk: m for m in list_agents(agent)}
    by_channel: dict[int | None, int] = {}
    by_day: dict[str, int] = {}
    for row in metrics.volume(f, "day"):
        by_channel[row["channel_id"]] = by_channel.get(row["channel_id"], 0) + row["count"]
        by_day[row["bucket"]] = by_day.get(row["bucket"], 0) + row["count"]
    agents = metrics.agents(f)
    for row in agents:
        row["member"] = members.get(row["agent_id"])
        row["median"] = duration(row["median_first_response_seconds"])
        row["csat_shown"] = percent(row["csat"])
        row["online"] = duration(row["online_seconds"] or None)
        row["occupancy_shown"] = percent(row["occupancy"])
        row["link"] = _list_link(f, assignee=row["agent_id"])
    backlog = overview["backlog"]
    sla = metrics.sla(f)
    channel_bars = bars([(channels.get(pk, "—") if pk else "—", n, _list_link(f, channel=pk))
                         for pk, n in sorted(by_channel.items(), key=lambda item: -item[1])])
    day_bars = bars([(day, n, "") for day, n in sorted(by_day.items())])
    shown = [row for row in figures(overview, before, query.days) if keys is None or row["key"] in keys]
    query_string = urlencode({k: v for k, v in params.items() if v})
    context = {
        "agent": agent, "params": params, "figures": shown, "backlog": backlog, "area": area, "sections": sections,
        "areas": [{"key": key, "title": title, "link": "/app/reports?" + urlencode(
            {**({"area": key} if key else {}), **{k: v for k, v in params.items() if v}})}
            for key, (title, _keys, _sections) in AREAS.items()],
        "previous": previous,
        "backlog_age": duration(backlog["median_age_seconds"]),
        "backlog_link": _list_link(f, status=",".join(ACTIVE_STATUSES)),
        "channel_bars": channel_bars, "day_bars": day_bars,
        "chart_data": {"channels": _chart(_("New conversations by channel"), channel_bars),
                       "days": _chart(_("New conversations by day"), day_bars),
                       "agents": _chart(_("Handled"), [
                           {"label": agent_name(row["member"]) if row["member"] else "—", "value": row["handled"],
                            "link": row["link"]} for row in agents if row["handled"]]),
                       "sla": _chart(_("SLA attainment"), [
                           {"label": f"#{row['policy_id']}", "link": "",
                            "value": round(100 * row["first_response"]["attainment"], 1)}
                           for row in sla if row["first_response"]["attainment"] is not None])},
        "agents": agents, "sla": sla, "channels": sorted(channels.items(), key=lambda item: item[1]),
        "members": list(members.values()), "query": query_string,
        "total": sum(by_channel.values()),
    }
    return render(request, "web/reports.html", context)


@require_GET
@agent_view
def reports_export_view(request: HttpRequest) -> HttpResponse:
    """CSV (or XLSX: `format=xlsx`) of the facts, the channel days or the agent days, with the screen's filters."""
    query, _params = _query(request)
    f = access_filters(request.agent, query)  # type: ignore[attr-defined]
    what, fmt = request.GET.get("what", "conversations"), request.GET.get("format", "csv")
    if what == "channels":
        return attachment("channel-days", fmt, metrics.channel_days(f))
    if what == "agents":
        return attachment("agent-days", fmt, metrics.agent_days(f))
    rows = (fact_row(x) for x in metrics.facts(f).order_by("pk").iterator(chunk_size=2000))
    return attachment("conversations", fmt, rows, FACT_COLUMNS)
