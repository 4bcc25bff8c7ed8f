"""Alert rules: a backlog threshold crossed by real inbound webhooks fires once (an `alert.fired` event for the
live notice, one email over the SMTP sink in the workspace's time zone), stays quiet while above, clears when
solved conversations bring it back, and fires again; the API's permissions, audit and two workspaces."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from threadline.analytics.actions import evaluate_alerts
from threadline.analytics.models import AlertRule
from threadline.analytics.tasks import evaluate_alerts_task, refresh_facts_task
from threadline.audit.models import AuditEntry
from threadline.conversations.tests.builders import bearer, inbound_conversation, send_json
from threadline.events.models import OutboxEvent
from threadline.jobs.scheduler import PERIODIC
from threadline.tenancy.models import Role, Workspace
from threadline.testing import factories
from threadline.testing.mailbox import wait_for_mail

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 12, 4, 16, 0, tzinfo=dt.UTC)  # 18:00 in Jerusalem


def rule_body(**fields):
    return {"name": "Backlog high", "metric": "backlog", "comparison": "above", "threshold": 1,
            "window_days": 1, "recipient_ids": [], **fields}


def check(run_jobs, captured, moment):
    run_jobs()
    refresh_facts_task.func()
    with captured(execute=True), time_machine.travel(moment, tick=False):
        return evaluate_alerts()


def events(kind):
    return list(OutboxEvent.objects.filter(type=kind).order_by("pk").values_list("payload", flat=True))


def test_backlog_alert_fires_once_stays_quiet_clears_and_fires_again(
        client, api, admin, run_jobs, system_mail, django_capture_on_commit_callbacks):
    Workspace.objects.filter(pk=admin.workspace_id).update(time_zone="Asia/Jerusalem")
    channel = factories.make_api_channel(admin)
    answer = send_json(api, "post", "/api/v1/analytics/alerts", rule_body(recipient_ids=[admin.pk]))
    assert answer.status_code == 201, answer.content
    rule_id = answer.json()["id"]
    assert answer.json()["state"] == "clear" and answer.json()["unit"] == "count"
    with time_machine.travel(START, tick=False):
        first = inbound_conversation(client, channel, run_jobs, "m1", "ann@example.com")
        assert check(run_jobs, django_capture_on_commit_callbacks, START)["fired"] == 0  # 1 is not above 1
        second = inbound_conversation(client, channel, run_jobs, "m2", "bob@example.com")
    assert check(run_jobs, django_capture_on_commit_callbacks, START + dt.timedelta(minutes=5)) == {
        "checked": 1, "fired": 1, "cleared": 0}
    rule = AlertRule.objects.get(pk=rule_id)
    assert (rule.state, rule.last_value, rule.fired_at) == ("firing", 2.0, START + dt.timedelta(minutes=5))
    [fired] = events("alert.fired")
    assert (fired["rule_id"], fired["value"], fired["threshold"], fired["recipient_ids"]) == (rule_id, 2.0, 1.0,
                                                                                              [admin.pk])
    [mail] = wait_for_mail(system_mail)
    assert mail.message["To"] == admin.user.email and "Backlog high" in mail.message["Subject"]
    body = mail.message.get_body(preferencelist=("plain",)).get_content()
    assert "is 2, above the threshold of 1" in body and "2026-12-04 18:05" in body and "Asia/Jerusalem" in body
    assert "/app/reports/alerts" in body

    with time_machine.travel(START + dt.timedelta(minutes=6), tick=False):
        inbound_conversation(client, channel, run_jobs, "m3", "cat@example.com")
    assert check(run_jobs, django_capture_on_commit_callbacks, START + dt.timedelta(minutes=10))["fired"] == 0
    assert len(events("alert.fired")) == 1 and len(system_mail.handler.received) == 1
    assert AlertRule.objects.get(pk=rule_id).last_value == 3.0

    for conversation in (first, second):
        assert send_json(api, "patch", f"/api/v1/conversations/{conversation.pk}",
                         {"status": "solved"}).status_code == 200
    assert check(run_jobs, django_capture_on_commit_callbacks, START + dt.timedelta(minutes=15))["cleared"] == 1
    rule.refresh_from_db()
    assert (rule.state, rule.last_value, rule.cleared_at) == ("clear", 1.0, START + dt.timedelta(minutes=15))
    assert [e["rule_id"] for e in events("alert.cleared")] == [rule_id]

    with time_machine.travel(START + dt.timedelta(minutes=16), tick=False):
        inbound_conversation(client, channel, run_jobs, "m4", "dan@example.com")
    assert check(run_jobs, django_capture_on_commit_callbacks, START + dt.timedelta(minutes=20))["fired"] == 1
    assert len(events("alert.fired")) == 2
    assert len(wait_for_mail(system_mail, 2)) == 2
    listed = api.get("/api/v1/analytics/alerts").json()
    assert [(r["id"], r["state"], r["last_value"]) for r in listed] == [(rule_id, "firing", 2.0)]


def test_the_scheduler_runs_the_evaluation_every_five_minutes(admin):
    assert [p.every_seconds for p in PERIODIC if p.task == "threadline.analytics.tasks.evaluate_alerts_task"] == [300]
    AlertRule.objects.create(workspace_id=admin.workspace_id, name="Any", metric="backlog", comparison="below",
                             threshold=5)
    AlertRule.objects.create(workspace_id=admin.workspace_id, name="Off", metric="backlog", comparison="below",
                             threshold=5, enabled=False)
    assert evaluate_alerts_task.func() == 1
    assert AlertRule.objects.get(name="Any").state == "firing"  # 0 open is below 5
    assert AlertRule.objects.get(name="Off").checked_at is None


def test_changes_are_audited_and_a_changed_watch_starts_clear(api, admin):
    created = send_json(api, "post", "/api/v1/analytics/alerts", rule_body(metric="csat", comparison="below",
                                                                            threshold=80)).json()
    AlertRule.objects.filter(pk=created["id"]).update(state="firing", last_value=50)
    changed = send_json(api, "put", f"/api/v1/analytics/alerts/{created['id']}",
                        rule_body(metric="csat", comparison="below", threshold=70, window_days=7))
    assert changed.status_code == 200, changed.content
    assert (changed.json()["state"], changed.json()["last_value"], changed.json()["unit"]) == ("clear", None,
                                                                                            "percent")
    assert api.delete(f"/api/v1/analytics/alerts/{created['id']}").status_code == 204
    assert not AlertRule.objects.exists()
    audit = list(AuditEntry.objects.filter(workspace_id=admin.workspace_id, action__startswith="alert.")
                 .order_by("pk").values_list("action", "details"))
    assert [a for a, _d in audit] == ["alert.created", "alert.updated", "alert.deleted"]
    assert audit[1][1] == {"threshold": 70.0, "window_days": 7}


@pytest.mark.parametrize(("fields", "code"), [
    ({"metric": "mood"}, "invalid_metric"), ({"comparison": "equal"}, "invalid_comparison"),
    ({"window_days": 0}, "invalid_window"), ({"window_days": 91}, "invalid_window"), ({"name": " "}, "invalid_name"),
    ({"window_hours": 169}, "invalid_window"), ({"window_hours": -1}, "invalid_window"),
])
def test_invalid_rules_are_refused(api, fields, code):
    answer = send_json(api, "post", "/api/v1/analytics/alerts", rule_body(**fields))
    assert (answer.status_code, answer.json()["code"]) == (400, code)


def test_two_workspaces_and_who_may_do_what(client, api, admin):
    other = factories.make_workspace("Other Desk")
    other_channel = factories.make_api_channel(other)
    theirs = send_json(client, "post", "/api/v1/analytics/alerts", rule_body(name="Theirs"),
                       **bearer(factories.make_token(other))).json()
    agent = factories.make_agent(admin, "agent@example.com", role=Role.AGENT)
    # recipients must hold analytics.view in this workspace; filters name this workspace's channels
    for fields, status in (({"recipient_ids": [other.pk]}, 400), ({"recipient_ids": [agent.pk]}, 400),
                           ({"channel_id": other_channel.pk}, 404)):
        assert send_json(api, "post", "/api/v1/analytics/alerts", rule_body(**fields)).status_code == status
    mine = send_json(api, "post", "/api/v1/analytics/alerts", rule_body()).json()
    assert [r["id"] for r in api.get("/api/v1/analytics/alerts").json()] == [mine["id"]]
    assert api.get(f"/api/v1/analytics/alerts/{theirs['id']}").status_code == 404
    assert send_json(api, "put", f"/api/v1/analytics/alerts/{theirs['id']}", rule_body()).status_code == 404
    assert api.delete(f"/api/v1/analytics/alerts/{theirs['id']}").status_code == 404
    assert AlertRule.objects.get(pk=theirs["id"]).name == "Theirs"
    as_agent = bearer(factories.make_token(agent))
    assert client.get("/api/v1/analytics/alerts", **as_agent).status_code == 403
    assert send_json(client, "post", "/api/v1/analytics/alerts", rule_body(), **as_agent).status_code == 403


def test_csat_below_a_threshold_in_the_last_hours(api, admin):
    """"CSAT below 80% in the last N hours": the figure over the conversations created in the N hours before
    the evaluation (not whole days), computed here from the seeded month's plan; the API keeps the window."""
    from zoneinfo import ZoneInfo

    from threadline.analytics.alerts import current_value
    from threadline.analytics.refresh import rebuild
    from threadline.analytics.testing import ZONE, at, make_plan, write

    plan = make_plan()
    write(admin, plan)
    rebuild(admin.workspace_id)
    body = rule_body(metric="csat", comparison="below", threshold=80, window_hours=36)
    created = send_json(api, "post", "/api/v1/analytics/alerts", body)
    assert created.status_code == 201 and created.json()["window_hours"] == 36, created.content
    rule = AlertRule.objects.get(pk=created.json()["id"])
    moment = at(15 * 1440 - 1)  # 23:59 local on the month's 15th day: nothing later that day

    def expected(since):
        scores = [p.survey[2] for p in plan.conversations if since <= at(p.start) <= moment and p.survey
                  and p.survey[0] == "csat" and p.survey[2] is not None]
        return round(100 * round(sum(1 for x in scores if x >= 4) / len(scores), 4), 2) if scores else None

    figures = {}
    for hours in (4, 36, 100):
        rule.window_hours = hours
        figures[hours] = current_value(rule, ZoneInfo(ZONE), moment)
        assert figures[hours] == expected(moment - dt.timedelta(hours=hours)), hours
    rule.window_hours, rule.window_days = 0, 1
    today = current_value(rule, ZoneInfo(ZONE), moment)
    day_start = dt.datetime.combine(moment.astimezone(ZoneInfo(ZONE)).date(), dt.time(0), tzinfo=ZoneInfo(ZONE))
    assert today == expected(day_start)
    assert figures[36] is not None and len({figures[36], figures[100], today}) > 1  # the windows differ
