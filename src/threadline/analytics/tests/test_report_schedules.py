"""Scheduled email reports over the SMTP sink with frozen time in the workspace's zone (Asia/Jerusalem): a
weekly Monday 09:00 report goes once per slot with the past week's figures (text and HTML, each recipient's
language and direction), "send now" previews it, and two workspaces and the permissions hold."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from threadline.analytics.actions import send_due_reports
from threadline.analytics.models import ReportSchedule
from threadline.analytics.refresh import rebuild
from threadline.analytics.tasks import send_due_reports_task
from threadline.analytics.testing import ZONE, make_plan, write
from threadline.audit.models import AuditEntry
from threadline.conversations.models import Conversation
from threadline.conversations.tests.builders import bearer, send_json
from threadline.jobs.scheduler import PERIODIC
from threadline.tenancy.models import Role
from threadline.testing import factories
from threadline.testing.mailbox import wait_for_mail

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo(ZONE)


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=LOCAL)


def created_between(workspace_id: int, first: int, last: int) -> int:
    """Conversations created in local days Nov `first`..`last`, counted from the conversations themselves."""
    return Conversation.objects.filter(workspace_id=workspace_id, created_at__gte=local(first, 0),
                                       created_at__lt=local(last, 0) + dt.timedelta(days=1)).count()


def text_of(captured) -> str:
    return captured.message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def html_of(captured) -> str:
    return captured.message.get_body(preferencelist=("html",)).get_content()


@pytest.fixture
def month(admin):
    write(admin, make_plan(conversations=60))
    rebuild(admin.workspace_id)


def sweep(captured, moment) -> int:
    with captured(execute=True), time_machine.travel(moment, tick=False):
        return send_due_reports()


def test_a_weekly_report_goes_once_per_slot_in_each_recipients_language(
        api, admin, month, system_mail, django_capture_on_commit_callbacks):
    boss = factories.make_agent(admin, "boss@example.com", role=Role.ADMIN)
    boss.user.language = "he"
    boss.user.save(update_fields=["language"])
    with time_machine.travel(local(16, 8, 55), tick=False):  # Monday, before 09:00
        answer = send_json(api, "post", "/api/v1/analytics/reports", {
            "name": "Weekly figures", "frequency": "weekly", "weekday": 0, "hour": 9,
            "recipient_ids": [admin.pk, boss.pk]})
    assert answer.status_code == 201, answer.content
    assert answer.json()["last_slot"] == "2026-11-09"  # the slot already past is not sent
    assert sweep(django_capture_on_commit_callbacks, local(16, 8, 59)) == 0
    assert sweep(django_capture_on_commit_callbacks, local(16, 9, 0)) == 1
    mails = wait_for_mail(system_mail, 2)
    assert sweep(django_capture_on_commit_callbacks, local(16, 9, 5)) == 0
    assert sweep(django_capture_on_commit_callbacks, local(20, 9, 0)) == 0  # Friday: same slot
    by_to = {m.message["To"]: m for m in mails}
    english, hebrew = by_to[admin.user.email], by_to["boss@example.com"]
    assert english.message["Subject"] == "Weekly figures: Acme Support, 2026-11-09 – 2026-11-15"
    body = text_of(english)
    assert f"New conversations: {created_between(admin.workspace_id, 9, 15)}\n" in body
    assert "(Asia/Jerusalem)" in body and "/app/reports?start=2026-11-09&end=2026-11-15" in body
    assert '<html lang="en" dir="ltr">' in html_of(english) and "New conversations" in html_of(english)
    assert '<html lang="he" dir="rtl">' in html_of(hebrew)
    assert ReportSchedule.objects.get().last_slot == dt.date(2026, 11, 16)

    assert sweep(django_capture_on_commit_callbacks, local(23, 9, 0)) == 1  # the next Monday
    later = [m for m in wait_for_mail(system_mail, 4) if m.message["To"] == admin.user.email][-1]
    assert f"New conversations: {created_between(admin.workspace_id, 16, 22)}\n" in text_of(later)
    assert len(system_mail.handler.received) == 4


def test_daily_send_now_and_the_scheduler(api, admin, month, system_mail, django_capture_on_commit_callbacks):
    assert [p.every_seconds for p in PERIODIC if p.task.endswith("send_due_reports_task")] == [300]
    with time_machine.travel(local(11, 7, 0), tick=False):
        created = send_json(api, "post", "/api/v1/analytics/reports", {
            "name": "Daily", "frequency": "daily", "hour": 6, "recipient_ids": [admin.pk]}).json()
        assert created["last_slot"] == "2026-11-11"
        with django_capture_on_commit_callbacks(execute=True):
            sent = api.post(f"/api/v1/analytics/reports/{created['id']}/send")
        assert sent.status_code == 202 and sent.json() == {"slot": "2026-11-11", "start": "2026-11-10",
                                                           "end": "2026-11-10"}
        [preview] = wait_for_mail(system_mail)
        assert f"New conversations: {created_between(admin.workspace_id, 10, 10)}\n" in text_of(preview)
        assert ReportSchedule.objects.get().last_slot == dt.date(2026, 11, 11)  # a preview changes nothing
    with time_machine.travel(local(12, 6, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert send_due_reports_task.func() == 1
    assert wait_for_mail(system_mail, 2)[1].message["Subject"] == "Daily: Acme Support, 2026-11-11"


def test_changes_are_audited_refusals_two_workspaces_and_permissions(client, api, admin):
    other = factories.make_workspace("Other Desk")
    theirs = send_json(client, "post", "/api/v1/analytics/reports", {"name": "Theirs"},
                       **bearer(factories.make_token(other))).json()
    for fields, status, code in (({"frequency": "hourly"}, 400, "invalid_frequency"),
                                 ({"hour": 24}, 400, "invalid_hour"), ({"weekday": 7}, 400, "invalid_weekday"),
                                 ({"recipient_ids": [other.pk]}, 400, "invalid_recipients")):
        answer = send_json(api, "post", "/api/v1/analytics/reports", {"name": "Mine", **fields})
        assert (answer.status_code, answer.json()["code"]) == (status, code)
    mine = send_json(api, "post", "/api/v1/analytics/reports", {"name": "Mine"}).json()
    assert [s["id"] for s in api.get("/api/v1/analytics/reports").json()] == [mine["id"]]
    for method in ("get", "delete"):
        assert getattr(api, method)(f"/api/v1/analytics/reports/{theirs['id']}").status_code == 404
    assert api.post(f"/api/v1/analytics/reports/{theirs['id']}/send").status_code == 404
    changed = send_json(api, "put", f"/api/v1/analytics/reports/{mine['id']}", {"name": "Mine", "hour": 18})
    assert changed.status_code == 200 and changed.json()["hour"] == 18
    assert api.delete(f"/api/v1/analytics/reports/{mine['id']}").status_code == 204
    assert list(AuditEntry.objects.filter(action__startswith="report_schedule.").order_by("pk").values_list(
        "action", "details")) == [
        ("report_schedule.created", {"name": "Theirs", "frequency": "weekly", "weekday": 0, "hour": 8,
                                     "channel_id": None, "team_id": None, "recipient_ids": [], "enabled": True}),
        ("report_schedule.created", {"name": "Mine", "frequency": "weekly", "weekday": 0, "hour": 8,
                                     "channel_id": None, "team_id": None, "recipient_ids": [], "enabled": True}),
        ("report_schedule.updated", {"hour": 18}), ("report_schedule.deleted", {"name": "Mine"})]
    as_agent = bearer(factories.make_token(factories.make_agent(admin, "agent@example.com")))
    assert client.get("/api/v1/analytics/reports", **as_agent).status_code == 403
    assert send_json(client, "post", "/api/v1/analytics/reports", {"name": "x"}, **as_agent).status_code == 403
    assert ReportSchedule.objects.get(pk=theirs["id"]).name == "Theirs"
