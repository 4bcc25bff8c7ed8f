"""The email of a fired alert, through the installation's system mail (core.mail), one per recipient in their
language, the time in the workspace's time zone. Sent after the evaluation commits; a recipient who no longer
may see reports (role changed, deactivated) is skipped."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _

from threadline.analytics.alerts import COMPARISONS, METRICS
from threadline.analytics.models import AlertRule
from threadline.core import mail
from threadline.tenancy.models import Workspace
from threadline.tenancy.permissions import Permission, holders

logger = logging.getLogger(__name__)
ALERTS_PATH = "/app/reports/alerts"


def figure(value: float | None) -> str:
    return "—" if value is None else formats.number_format(value, decimal_pos=0 if value == int(value) else 2)


def alert_text(rule: AlertRule, workspace: Workspace) -> tuple[str, str]:
    """Subject and body in the active language."""
    metric = METRICS[rule.metric]
    fired = (rule.fired_at or rule.checked_at).astimezone(ZoneInfo(workspace.time_zone or "UTC"))
    values = {"name": rule.name, "workspace": workspace.name, "metric": metric.label,
              "comparison": COMPARISONS[rule.comparison], "threshold": figure(rule.threshold),
              "value": figure(rule.last_value), "when": fired.strftime("%Y-%m-%d %H:%M"),
              "zone": workspace.time_zone, "url": f"{settings.PUBLIC_URL}{ALERTS_PATH}"}
    subject = _("Alert: %(name)s (%(workspace)s)") % values
    text = _("%(metric)s is %(value)s, %(comparison)s the threshold of %(threshold)s.\n\n"
             "Alert \"%(name)s\" fired at %(when)s (%(zone)s) in %(workspace)s. It fires again only after the "
             "figure is back.\n\nAlerts: %(url)s\n") % values
    return subject, text


def mail_alert(rule_id: int) -> int:
    """Mail the rule's recipients; answers how many messages the server accepted."""
    rule = AlertRule.objects.filter(pk=rule_id).first()
    if rule is None or not rule.recipient_ids:
        return 0
    workspace = Workspace.objects.get(pk=rule.workspace_id)
    sent = 0
    for member in holders(rule.workspace_id, Permission.ANALYTICS).filter(pk__in=rule.recipient_ids).select_related(
            "user").order_by("pk"):
        with translation.override(member.user.language or workspace.default_language):
            subject, text = alert_text(rule, workspace)
        sent += mail.send(member.user.email, subject, text)
    if sent < len(rule.recipient_ids):
        logger.info("alert %s: %s of %s recipients mailed", rule_id, sent, len(rule.recipient_ids))
    return sent
