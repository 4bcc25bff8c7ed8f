"""Reads for the analytics API and screens: `access_filters` is the permission-checked entry (analytics.view,
every id of the filters in the actor's workspace, or 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from threadline.analytics import metrics, survey_metrics
from threadline.analytics.metrics import Filters
from threadline.analytics.models import ConversationFact
from threadline.analytics.schemas import FilterQuery, MetricName, MetricQuery
from threadline.channels.models import Channel
from threadline.core.errors import NotFound, ValidationFailed
from threadline.tenancy.models import Brand, Membership, Team
from threadline.tenancy.permissions import Permission, require

FACT_COLUMNS = [
    "conversation_id", "created_at", "created_day", "contact_id", "origin_channel_id", "channels_used", "brand_id",
    "team_id", "language", "tags", "status", "first_assignee_id", "last_assignee_id", "assignee_count",
    "first_response_at", "first_responder_id", "first_response_seconds", "first_response_business_seconds",
    "next_response_seconds", "resolutions", "reopens", "first_resolved_at", "last_resolved_at", "resolution_seconds",
    "resolution_business_seconds", "resolution_spans", "messages_contact", "messages_agent", "messages_bot",
    "bot_outcome", "sla_policy_id", "sla_first_response", "sla_resolution", "repeat_gap_seconds",
    "explain_twice_gap_seconds", "surveys_sent", "csat_scores", "nps_scores", "ces_scores",
]
SURVEY_KINDS = ("csat", "nps", "ces")
REFERENCES: list[tuple[str, type[Model], str, Any]] = [
    ("channel_id", Channel, "channel_not_found", gettext_lazy("No such channel.")),
    ("brand_id", Brand, "brand_not_found", gettext_lazy("No such brand.")),
    ("team_id", Team, "team_not_found", gettext_lazy("No such team.")),
    ("agent_id", Membership, "agent_not_found", gettext_lazy("No such agent.")),
]


def access_filters(actor: Membership, query: FilterQuery) -> Filters:
    require(actor, Permission.ANALYTICS)
    if query.start and query.end and query.start > query.end:
        raise ValidationFailed(_("The range ends before it starts."), code="invalid_range", field="end")
    for name, model, code, message in REFERENCES:
        value = getattr(query, name)
        if value is not None and not model.objects.filter(pk=value, workspace_id=actor.workspace_id).exists():
            raise NotFound(str(message), code=code)
    return Filters(workspace_id=actor.workspace_id, start=query.start, end=query.end, channel_id=query.channel_id,
                   brand_id=query.brand_id, team_id=query.team_id, agent_id=query.agent_id, language=query.language,
                   tag=query.tag)


def metric_value(name: MetricName, f: Filters, query: MetricQuery) -> Any:
    days, by = query.days, query.by.value
    return {
        MetricName.OVERVIEW: lambda: metrics.overview(f, days),
        MetricName.VOLUME: lambda: metrics.volume(f, by),
        MetricName.FIRST_RESPONSE: lambda: metrics.first_response(f),
        MetricName.NEXT_RESPONSE: lambda: metrics.next_response(f),
        MetricName.RESOLUTION: lambda: metrics.resolution(f),
        MetricName.REOPEN: lambda: metrics.reopen_rate(f),
        MetricName.FIRST_CONTACT_RESOLUTION: lambda: metrics.first_contact_resolution(f),
        MetricName.REPEAT_CONTACT: lambda: metrics.repeat_contact(f, days),
        MetricName.CHANNEL_SWITCH: lambda: metrics.channel_switch(f),
        MetricName.EXPLAIN_TWICE: lambda: metrics.explain_twice(f, days),
        MetricName.BOT: lambda: metrics.bot(f),
        MetricName.SLA: lambda: metrics.sla(f),
        MetricName.BACKLOG: lambda: metrics.backlog(f),
        MetricName.AGENTS: lambda: metrics.agents(f),
        MetricName.SURVEYS: lambda: survey_metrics.surveys(f),
    }[name]()


def fact_row(fact: ConversationFact) -> dict[str, Any]:
    surveys = fact.surveys or {}
    row = {column: getattr(fact, column) for column in FACT_COLUMNS[:-4]}
    row["surveys_sent"] = sum(figures["sent"] for figures in surveys.values())
    for kind in SURVEY_KINDS:  # the answers' scores, oldest first (a list: space-separated in CSV)
        row[f"{kind}_scores"] = list(surveys.get(kind, {}).get("scores", []))
    for column in ("created_at", "created_day", "first_response_at", "first_resolved_at", "last_resolved_at"):
        row[column] = row[column].isoformat() if row[column] is not None else None
    return row


def firing_alert_count(actor: Membership) -> int:
    """The workspace's enabled alert rules firing now, for members who may see reports (the /app/ navigation's
    live count); 0 for the others."""
    from threadline.analytics.models import AlertRule
    from threadline.tenancy.permissions import has_permission

    if not has_permission(actor, Permission.ANALYTICS):
        return 0
    return AlertRule.objects.filter(workspace_id=actor.workspace_id, enabled=True, state=AlertRule.State.FIRING).count()
