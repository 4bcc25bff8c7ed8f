"""/api/v1/analytics/alerts: alert rules on a metric's threshold. Members holding analytics.view list and read
them; admin.automations creates, changes and deletes them (docs/analytics.md, Alerts)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from threadline.analytics.actions import (
    AlertConfig,
    access_alert_rule,
    do_create_alert_rule,
    do_delete_alert_rule,
    do_update_alert_rule,
)
from threadline.analytics.alerts import METRICS
from threadline.analytics.models import AlertRule
from threadline.analytics.schemas import AlertRuleIn, AlertRuleOut
from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.core.schemas import Id
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["analytics"])


def rule_out(rule: AlertRule) -> dict[str, Any]:
    return {"id": rule.pk, "name": rule.name, "metric": rule.metric, "unit": METRICS[rule.metric].unit,
            "comparison": rule.comparison, "threshold": rule.threshold, "window_days": rule.window_days,
            "window_hours": rule.window_hours,
            "channel_id": rule.channel_id, "team_id": rule.team_id, "recipient_ids": list(rule.recipient_ids),
            "enabled": rule.enabled, "state": rule.state, "last_value": rule.last_value,
            "checked_at": rule.checked_at, "fired_at": rule.fired_at, "cleared_at": rule.cleared_at}


def config_of(payload: AlertRuleIn) -> AlertConfig:
    return AlertConfig(**{**payload.dict(), "recipient_ids": tuple(payload.recipient_ids)})


@router.get("", response=responses(list[AlertRuleOut]), summary="List the alert rules and their state")
def list_alerts(request: HttpRequest) -> list[dict[str, Any]]:
    agent = actor(request)
    require(agent, Permission.ANALYTICS)
    return [rule_out(rule) for rule in AlertRule.objects.filter(workspace_id=agent.workspace_id).order_by("pk")]


@router.post("", response=responses(AlertRuleOut, 201), summary="Create an alert rule (admin.automations)")
def create_alert(request: HttpRequest, payload: AlertRuleIn) -> Status[Any]:
    agent = actor(request)
    with transaction.atomic():
        rule = do_create_alert_rule(agent, config_of(payload))
    return Status(201, rule_out(rule))


@router.get("/{rule_id}", response=responses(AlertRuleOut), summary="Get an alert rule")
def alert_detail(request: HttpRequest, rule_id: Id) -> dict[str, Any]:
    return rule_out(access_alert_rule(actor(request), rule_id))


@router.put("/{rule_id}", response=responses(AlertRuleOut),
            summary="Replace an alert rule (admin.automations); a changed watch starts clear")
def update_alert(request: HttpRequest, rule_id: Id, payload: AlertRuleIn) -> dict[str, Any]:
    agent = actor(request)
    with transaction.atomic():
        rule = do_update_alert_rule(agent, access_alert_rule(agent, rule_id, Permission.ADMIN_AUTOMATIONS),
                                    config_of(payload))
    return rule_out(rule)


@router.delete("/{rule_id}", response=responses(None, 204), summary="Delete an alert rule (admin.automations)")
def delete_alert(request: HttpRequest, rule_id: Id) -> Status[None]:
    agent = actor(request)
    with transaction.atomic():
        do_delete_alert_rule(agent, access_alert_rule(agent, rule_id, Permission.ADMIN_AUTOMATIONS))
    return Status(204, None)
