"""Outreach reads: campaigns (`access_campaign`), a campaign's report (counts by status and reason) and its
recipients as CSV, the settings, the proactive rules a widget evaluates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext as _

from threadline.core.errors import NotFound
from threadline.outreach.models import Campaign, OutreachDelivery, OutreachSettings, ProactiveRule
from threadline.outreach.reach import reason_text
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

STATUSES = [s for s, _label in OutreachDelivery.Status.choices]


def list_campaigns(actor: Membership, *, kind: str = "") -> QuerySet[Campaign]:
    require(actor, Permission.ANALYTICS)
    found = Campaign.objects.filter(workspace_id=actor.workspace_id)
    return found.filter(kind=kind) if kind else found


def access_campaign(actor: Membership, campaign_id: int, permission: str = Permission.ANALYTICS) -> Campaign:
    require(actor, permission)
    found = Campaign.objects.filter(pk=campaign_id, workspace_id=actor.workspace_id).first()
    if found is None:
        raise NotFound(_("No such campaign."), code="campaign_not_found")
    return found


def report(campaign: Campaign) -> dict[str, Any]:
    """{"recipients", "by_status": {status: n} (every status), "reasons": [{"status", "code", "reason", "count"}],
    "sms_segments"}; reasons of skipped, failed and held rows, most frequent first."""
    rows = OutreachDelivery.objects.filter(campaign=campaign)
    by_status = dict.fromkeys(STATUSES, 0)
    for row in rows.values("status").annotate(n=Count("id")).order_by():
        by_status[row["status"]] = row["n"]
    reasons = [{"status": r["status"], "code": r["reason_code"], "reason": reason_text(r["reason_code"]),
                "count": r["n"]}
               for r in rows.exclude(reason_code="").values("status", "reason_code").annotate(n=Count("id"))
               .order_by("-n", "status", "reason_code")]
    by_channel = [{"kind": r["channel__kind"], "count": r["n"]} for r in
                  rows.filter(status__in=["queued", "delivered", "failed"]).values("channel__kind")
                  .annotate(n=Count("id")).order_by("-n", "channel__kind")]
    return {"recipients": sum(by_status.values()), "by_status": by_status, "reasons": reasons,
            "by_channel": by_channel, "sms_segments": rows.aggregate(n=Sum("segments"))["n"] or 0,
            "templates": rows.filter(as_template=True).count()}


def deliveries(campaign: Campaign) -> QuerySet[OutreachDelivery]:
    return OutreachDelivery.objects.filter(campaign=campaign).select_related("contact", "channel")


CSV_HEADER = ["contact_id", "contact_name", "status", "reason_code", "reason", "channel_kind", "channel_id",
              "address", "channel_choice", "as_template", "sms_segments", "due_at", "sent_at", "finished_at",
              "message_id"]


def audit_rows(campaign: Campaign) -> Iterator[dict[str, Any]]:
    """The campaign's audit, row by row (CSV_HEADER's columns): who received what, on which channel, or why not."""
    for row in deliveries(campaign).order_by("id").iterator(chunk_size=2000):
        yield {"contact_id": row.contact_id, "contact_name": row.contact.name, "status": row.status,
               "reason_code": row.reason_code, "reason": row.reason,
               "channel_kind": row.channel.kind if row.channel else "", "channel_id": row.channel_id or "",
               "address": row.address, "channel_choice": row.channel_choice, "as_template": int(row.as_template),
               "sms_segments": row.segments, "due_at": row.due_at.isoformat() if row.due_at else "",
               "sent_at": row.sent_at.isoformat() if row.sent_at else "",
               "finished_at": row.finished_at.isoformat() if row.finished_at else "", "message_id": row.message_id or ""}


def settings_of(actor: Membership) -> OutreachSettings:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    return (OutreachSettings.objects.filter(workspace_id=actor.workspace_id).first()
            or OutreachSettings(workspace_id=actor.workspace_id))


def region_defaults(workspace_id: int) -> dict[str, str]:
    found = OutreachSettings.objects.filter(workspace_id=workspace_id).values_list("region_defaults", flat=True).first()
    return dict(found or {})


def list_rules(actor: Membership) -> QuerySet[ProactiveRule]:
    require(actor, Permission.ADMIN_CHANNELS)
    return ProactiveRule.objects.filter(workspace_id=actor.workspace_id)


def access_rule(actor: Membership, rule_id: int) -> ProactiveRule:
    found = list_rules(actor).filter(pk=rule_id).first()
    if found is None:
        raise NotFound(_("No such rule."), code="rule_not_found")
    return found


def widget_rules(workspace_id: int, language: str) -> list[dict[str, Any]]:
    """The enabled proactive rules as the widget evaluates them, each message in the visitor's language (else
    the first two letters, else English, else the first written)."""
    found = []
    for rule in ProactiveRule.objects.filter(workspace_id=workspace_id, enabled=True)[:50]:
        messages = rule.messages or {}
        text = next((messages[k] for k in (language, language[:2], "en") if k and messages.get(k)),
                    next(iter(messages.values()), ""))
        if text:
            found.append({"id": rule.pk, "trigger": rule.trigger, "url_pattern": rule.url_pattern,
                          "seconds": rule.seconds, "call_name": rule.call_name, "text": text})
    return found
