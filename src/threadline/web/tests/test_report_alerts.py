"""/app/reports/alerts: admins add, switch off and delete alert rules through the form; members who may see
reports see each rule's state; the inbox navigation counts the rules firing; Hebrew right to left, the table
scrolls at 390 px (server-side markup; no browser run); other workspaces and agents are kept out."""

from __future__ import annotations

import pytest

from threadline.analytics.actions import evaluate_alerts
from threadline.analytics.models import AlertRule
from threadline.audit.models import AuditEntry
from threadline.testing import factories

pytestmark = pytest.mark.django_db


def add(client, **fields):
    return client.post("/app/reports/alerts/new", {"name": "Backlog", "metric": "backlog", "comparison": "below",
                                                   "threshold": "5", "window_days": "1", "enabled": "on", **fields})


def test_admin_adds_switches_off_and_deletes_an_alert_and_the_inbox_counts_it(client, admin):
    client.force_login(admin.user)
    answer = add(client, recipient_ids=[str(admin.pk)])
    assert answer.status_code == 302 and answer["Location"] == "/app/reports/alerts"
    rule = AlertRule.objects.get()
    assert (rule.metric, rule.comparison, rule.threshold, rule.recipient_ids, rule.enabled) == (
        "backlog", "below", 5.0, [admin.pk], True)
    assert 'id="alerts-nav" hidden' in client.get("/app/").content.decode()
    evaluate_alerts()  # no open conversation: 0 is below 5
    page = client.get("/app/reports/alerts").content.decode()
    assert f'data-alert="{rule.pk}" data-state="firing"' in page and "Alert added." in page
    inbox = client.get("/app/").content.decode()
    assert 'id="alerts-nav">' in inbox and 'id="alerts-count">1<' in inbox
    assert client.post(f"/app/reports/alerts/{rule.pk}/toggle").status_code == 302
    rule.refresh_from_db()
    assert (rule.enabled, rule.state) == (False, "clear")
    assert client.post(f"/app/reports/alerts/{rule.pk}/delete").status_code == 302
    assert not AlertRule.objects.exists()
    assert list(AuditEntry.objects.filter(action__startswith="alert.").order_by("pk").values_list(
        "action", flat=True)) == ["alert.created", "alert.updated", "alert.deleted"]


def test_a_refused_alert_shows_the_reason_and_keeps_the_form(client, admin):
    client.force_login(admin.user)
    answer = add(client, name="Too wide", window_days="400")
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "The window is 1 (today) to 90 days." in page and 'value="Too wide"' in page
    assert not AlertRule.objects.exists()


def test_hebrew_right_to_left_and_a_phone(client, admin):
    admin.user.language = "he"
    admin.user.save(update_fields=["language"])
    client.force_login(admin.user)
    add(client)
    page = client.get("/app/reports/alerts").content.decode()
    assert '<html lang="he" dir="rtl">' in page
    assert '<div class="scroll">' in page and "reports.css" in page  # the table scrolls inside 96vw


def test_agents_and_other_workspaces_are_kept_out(client, admin):
    other = factories.make_workspace("Other Desk")
    theirs = AlertRule.objects.create(workspace_id=other.workspace_id, name="Theirs", metric="backlog",
                                      comparison="above", threshold=1)
    client.force_login(admin.user)
    assert "Theirs" not in client.get("/app/reports/alerts").content.decode()
    assert client.post(f"/app/reports/alerts/{theirs.pk}/delete").status_code == 404
    assert client.post(f"/app/reports/alerts/{theirs.pk}/toggle").status_code == 404
    assert add(client, recipient_ids=[str(other.pk)]).status_code == 400
    agent = factories.make_agent(admin, "agent@example.com")
    client.force_login(agent.user)
    assert client.get("/app/reports/alerts").status_code == 403
    assert add(client).status_code == 403
    assert 'id="alerts-nav"' not in client.get("/app/").content.decode()
    assert not AlertRule.objects.filter(workspace_id=admin.workspace_id).exists()
    assert AlertRule.objects.get(pk=theirs.pk).name == "Theirs"


def test_admin_schedules_a_report_sends_it_now_and_deletes_it(client, admin, system_mail,
                                                              django_capture_on_commit_callbacks):
    from threadline.analytics.models import ReportSchedule
    from threadline.testing.mailbox import wait_for_mail

    client.force_login(admin.user)
    answer = client.post("/app/reports/schedules/new", {"name": "Monday figures", "frequency": "weekly",
                                                        "weekday": "0", "hour": "9", "recipient_ids": [str(admin.pk)]})
    assert answer.status_code == 302
    schedule = ReportSchedule.objects.get()
    assert (schedule.frequency, schedule.weekday, schedule.hour, schedule.recipient_ids) == ("weekly", 0, 9,
                                                                                             [admin.pk])
    page = client.get("/app/reports/alerts").content.decode()
    assert f'data-schedule="{schedule.pk}"' in page and "Monday figures" in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/app/reports/schedules/{schedule.pk}/send").status_code == 302
    [sent] = wait_for_mail(system_mail)
    assert sent.message["Subject"].startswith("Monday figures: Acme Support, ")
    assert client.post(f"/app/reports/schedules/{schedule.pk}/delete").status_code == 302
    assert not ReportSchedule.objects.exists()
    agent = factories.make_agent(admin, "agent@example.com")
    client.force_login(agent.user)
    assert client.post("/app/reports/schedules/new", {"name": "x"}).status_code == 403
