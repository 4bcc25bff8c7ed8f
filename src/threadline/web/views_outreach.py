"""The outreach screens: /app/outreach (campaigns and notifications, a new campaign with its segment's count
previewed before saving), /app/outreach/<id> (the report: counts by status and reason, by channel; send,
cancel, the CSV audit) and /app/admin/outreach (quiet hours, rate limits, region defaults, proactive widget
rules). Writes are the outreach domain's actions; reads its queries."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from threadline.analytics.export import attachment
from threadline.core.errors import ValidationFailed
from threadline.outreach import actions, queries, segments
from threadline.outreach.models import Campaign, OutreachDelivery, ProactiveRule, Purpose
from threadline.outreach.reach import OUTREACH_KINDS
from threadline.tenancy.permissions import Permission, has_permission
from threadline.web.admin_forms import checked, screen, submit
from threadline.web.views_admin import admin_screen
from threadline.web.views_admin_surveys import _time

LIST_URL = "/app/outreach"
SETTINGS_URL = "/app/admin/outreach"


def _languages(agent: Any) -> list[str]:
    return list(agent.workspace.languages or [code for code, _name in settings.LANGUAGES])


def segment_from(data: Any) -> dict[str, Any]:
    """The segment a form describes: the simple fields (all must hold), or the JSON of "advanced" when given."""
    advanced = (data.get("segment_json") or "").strip()
    if advanced:
        try:
            return segments.check_segment(json.loads(advanced))
        except json.JSONDecodeError as exc:
            raise ValidationFailed(_("The segment is not valid JSON."), code="invalid_segment",
                                   field="segment_json") from exc
    conditions: list[dict[str, Any]] = []
    for key in ("language", "country", "tag"):
        value = (data.get(f"segment_{key}") or "").strip()
        if value:
            conditions.append({key: value})
    attribute, value = (data.get("segment_attribute") or "").strip(), (data.get("segment_value") or "").strip()
    if attribute:
        conditions.append({"attribute": attribute, "op": "eq", "value": value} if value
                          else {"attribute": attribute, "op": "exists"})
    for key in ("active_within_days", "inactive_for_days"):
        days = (data.get(f"segment_{key}") or "").strip()
        if days:
            try:
                conditions.append({key: int(days)})
            except ValueError as exc:
                raise ValidationFailed(_("Give a number of days."), code="invalid_segment", field=key) from exc
    return segments.check_segment({"all": conditions} if conditions else {})


def _list_page(request: HttpRequest, *, error: Exception | None = None, preview: int | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    context = {"campaigns": list(queries.list_campaigns(agent).order_by("-id")[:100]),
               "languages": _languages(agent), "purposes": Purpose.choices, "kinds": Campaign.Kind.choices,
               "can_edit": has_permission(agent, Permission.ADMIN_AUTOMATIONS),
               "form": request.POST if request.method == "POST" else request.GET, "preview": preview}
    return screen(request, "web/outreach/list.html", context, error=error)


def _fields(data: Any, languages: list[str]) -> dict[str, Any]:
    return {"name": data.get("name", ""), "kind": data.get("kind") or Campaign.Kind.CAMPAIGN,
            "event": data.get("event", ""), "purpose": data.get("purpose") or Purpose.MARKETING,
            "subject": data.get("subject", ""), "segment": segment_from(data),
            "messages": {code: data.get(f"message_{code}", "") for code in languages},
            "whatsapp_template": {"name": data.get("template_name", ""),
                                  "language": data.get("template_language", "")},
            "template_variables": [v for v in (data.get("template_variables") or "").replace(",", " ").split() if v]}


@require_GET
@admin_screen(Permission.ANALYTICS)
def campaigns_view(request: HttpRequest) -> HttpResponse:
    """The list and the new campaign form; with `preview` (the form sent by GET) the segment's count."""
    if "preview" not in request.GET:
        return _list_page(request)
    try:
        count = segments.preview(request.agent.workspace_id, segment_from(request.GET))  # type: ignore[attr-defined]
    except ValidationFailed as exc:
        return _list_page(request, error=exc)
    return _list_page(request, preview=count)


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def campaign_create_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    made: list[Campaign] = []

    def create() -> None:
        made.append(actions.do_create_campaign(agent.workspace_id, actor=agent,
                                               **_fields(request.POST, _languages(agent))))

    answer = submit(request, create, _("Campaign saved."), LIST_URL, lambda exc: _list_page(request, error=exc))
    if made and answer.status_code == 302:
        answer["Location"] = f"{LIST_URL}/{made[0].pk}"
    return answer


def _detail_page(request: HttpRequest, campaign: Campaign, *, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    report = queries.report(campaign)
    total = max(report["recipients"], 1)
    labels = dict(OutreachDelivery.Status.choices)
    bars = [{"status": status, "label": labels[status], "count": n, "percent": round(100 * n / total)}
            for status, n in report["by_status"].items()]
    for reason in report["reasons"]:
        reason["label"] = labels.get(reason["status"], reason["status"])
    context = {"campaign": campaign, "report": report, "bars": bars,
               "can_edit": has_permission(agent, Permission.ADMIN_AUTOMATIONS),
               "segment_json": json.dumps(campaign.segment, ensure_ascii=False, indent=1),
               "segment_count": segments.contacts_in(campaign.workspace_id, campaign.segment).count()
               if campaign.state == Campaign.State.DRAFT else None}
    return screen(request, "web/outreach/detail.html", context, error=error)


@require_GET
@admin_screen(Permission.ANALYTICS)
def campaign_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _detail_page(request, queries.access_campaign(request.agent, campaign_id))  # type: ignore[attr-defined]


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def campaign_send_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    campaign = queries.access_campaign(agent, campaign_id, Permission.ADMIN_AUTOMATIONS)
    return submit(request, lambda: actions.do_start_campaign(agent, campaign), _("Sending started."),
                  f"{LIST_URL}/{campaign.pk}", lambda exc: _detail_page(request, campaign, error=exc))


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def campaign_cancel_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    campaign = queries.access_campaign(agent, campaign_id, Permission.ADMIN_AUTOMATIONS)
    return submit(request, lambda: actions.do_cancel_campaign(agent, campaign), _("Campaign cancelled."),
                  f"{LIST_URL}/{campaign.pk}", lambda exc: _detail_page(request, campaign, error=exc))


@require_GET
@admin_screen(Permission.ANALYTICS)
def campaign_csv_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = queries.access_campaign(request.agent, campaign_id)  # type: ignore[attr-defined]
    return attachment(f"campaign-{campaign.pk}", "csv", queries.audit_rows(campaign), queries.CSV_HEADER)


# ── settings and proactive rules ─────────────────────────────────────────────────────────────────────
def _settings_page(request: HttpRequest, *, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    found = queries.settings_of(agent)
    context = {"settings": found, "kinds": OUTREACH_KINDS, "languages": _languages(agent),
               "rates": [(k, (found.rate_limits or {}).get(k, "")) for k in OUTREACH_KINDS],
               "regions": "\n".join(f"{r} {k}" for r, k in sorted((found.region_defaults or {}).items())),
               "rules": list(queries.list_rules(agent)) if has_permission(agent, Permission.ADMIN_CHANNELS) else None,
               "triggers": ProactiveRule.Trigger.choices}
    return screen(request, "web/admin/outreach.html", context, error=error)


def _number(value: str, field: str) -> int:
    try:
        return int(value.strip())
    except ValueError as exc:
        raise ValidationFailed(_("Give a whole number."), code="invalid_rate_limit", field=field) from exc


def _save_settings(agent: Any, data: Any) -> None:
    regions: dict[str, str] = {}
    for line in (data.get("region_defaults") or "").splitlines():
        parts = line.replace("=", " ").replace(":", " ").split()
        if len(parts) == 2:
            regions[parts[0]] = parts[1]
        elif parts:
            raise ValidationFailed(_("Write one region per line: a country code and a channel kind (TH line)."),
                                   code="invalid_region_defaults", field="region_defaults")
    actions.do_save_settings(
        agent, quiet_start=_time(data.get("quiet_start", ""), "quiet_start"),
        quiet_end=_time(data.get("quiet_end", ""), "quiet_end"),
        default_rate_per_minute=_number(data.get("default_rate_per_minute") or "600", "default_rate_per_minute"),
        rate_limits={k: _number(data[f"rate_{k}"], f"rate_{k}") for k in OUTREACH_KINDS
                     if (data.get(f"rate_{k}") or "").strip()},
        region_defaults=regions, marketing_requires_opt_in=checked(data, "marketing_requires_opt_in"))


def _save_rule(agent: Any, data: Any, languages: list[str]) -> None:
    rule = queries.access_rule(agent, int(data["rule_id"])) if (data.get("rule_id") or "").isdigit() else None
    if rule is not None and data.get("delete"):
        actions.do_delete_proactive_rule(agent, rule)
        return
    actions.do_save_proactive_rule(
        agent, rule, enabled=checked(data, "enabled"), name=data.get("name", ""), trigger=data.get("trigger", ""),
        url_pattern=data.get("url_pattern", ""), seconds=_number(data.get("seconds") or "0", "seconds"),
        call_name=data.get("call_name", ""), messages={c: data.get(f"message_{c}", "") for c in languages})


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def settings_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _settings_page(request)
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST
    if data.get("form") == "rule":
        return submit(request, lambda: _save_rule(agent, data, _languages(agent)), _("Proactive rule saved."),
                      SETTINGS_URL, lambda exc: _settings_page(request, error=exc))
    return submit(request, lambda: _save_settings(agent, data), _("Outreach settings saved."), SETTINGS_URL,
                  lambda exc: _settings_page(request, error=exc))
