"""/api/v1/analytics over real HTTP: metrics with filters, series, cursor-paged facts, CSV with the same
numbers, analytics.view required, and two workspaces that never see each other's facts or ids."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from threadline.analytics import metrics
from threadline.analytics.metrics import Filters
from threadline.analytics.refresh import rebuild
from threadline.analytics.testing import make_plan, write
from threadline.testing import factories

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def two(admin):
    """This workspace with a seeded month, and another with a smaller one."""
    mine = write(admin, make_plan(conversations=60))
    rebuild(admin.workspace_id)
    other_admin = factories.make_workspace("Other Desk")
    theirs = write(other_admin, make_plan(seed=3, conversations=20))
    rebuild(other_admin.workspace_id)
    return {"mine": mine, "theirs": theirs, "other_admin": other_admin,
            "token": factories.make_token(admin), "other_token": factories.make_token(other_admin)}


def rows_of(response) -> list[dict[str, str]]:
    assert response["Content-Type"] == "text/csv" and "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_metrics_answer_with_filters_and_as_csv(client, admin, two):
    auth = bearer(two["token"])
    f = Filters(workspace_id=admin.workspace_id)
    answer = client.get("/api/v1/analytics/metrics/overview", **auth)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["metric"] == "overview"
    assert body["value"]["channel_switch"] == metrics.channel_switch(f)
    assert body["value"]["repeat_contact"] == metrics.repeat_contact(f, 7)
    channel = two["mine"].channel_ids[0]
    answer = client.get(f"/api/v1/analytics/metrics/resolution?channel_id={channel}&start=2026-11-05&end=2026-11-20",
                        **auth)
    narrowed = Filters(workspace_id=admin.workspace_id, channel_id=channel, start=dt.date(
        2026, 11, 5), end=dt.date(2026, 11, 20))
    assert answer.json()["value"] == metrics.resolution(narrowed)
    assert answer.json()["filters"] == {"channel_id": channel, "start": "2026-11-05", "end": "2026-11-20"}
    assert answer.json()["value"]["count"] < metrics.resolution(f)["count"]
    answer = client.get("/api/v1/analytics/metrics/repeat-contact?days=1&format=csv", **auth)
    assert rows_of(answer) == [{k: str(v) for k, v in metrics.repeat_contact(f, 1).items()}]
    sla = rows_of(client.get("/api/v1/analytics/metrics/sla?format=csv", **auth))
    assert [int(row["first_response.met"]) for row in sla] == [r["first_response"]["met"] for r in metrics.sla(f)]
    volume = client.get("/api/v1/analytics/metrics/volume?by=hour", **auth).json()["value"]
    assert sum(row["count"] for row in volume) == 60


def test_series_and_facts_paged_by_cursor(client, admin, two):
    auth = bearer(two["token"])
    days = client.get("/api/v1/analytics/series/channels", **auth).json()["items"]
    assert sum(row["new_conversations"] for row in days) == 60
    agents = client.get(f"/api/v1/analytics/series/agents?agent_id={two['mine'].agent_ids[0]}", **auth).json()
    assert agents["items"] and {row["agent_id"] for row in agents["items"]} == {two["mine"].agent_ids[0]}
    seen, cursor = [], None
    while True:
        answer = client.get("/api/v1/analytics/conversations?limit=25" + (f"&cursor={cursor}" if cursor else ""),
                            **auth).json()
        seen += [row["conversation_id"] for row in answer["items"]]
        cursor = answer["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(two["mine"].conversation_ids)
    exported = rows_of(client.get("/api/v1/analytics/conversations?format=csv", **auth))
    assert [int(row["conversation_id"]) for row in exported] == seen
    assert sum(int(row["messages_contact"]) for row in exported) == sum(
        1 for p in make_plan(conversations=60).conversations for s in p.steps if s.side == "contact")
    assert client.get("/api/v1/analytics/conversations?cursor=nonsense", **auth).json()["code"] == "invalid_cursor"


def test_two_workspaces_and_the_permission(client, admin, two):
    mine, theirs = bearer(two["token"]), bearer(two["other_token"])
    assert client.get("/api/v1/analytics/metrics/channel-switch", **theirs).json()["value"]["conversations"] == 20
    assert client.get("/api/v1/analytics/metrics/channel-switch", **mine).json()["value"]["conversations"] == 60
    for name, value in (("channel_id", two["theirs"].channel_ids[0]), ("agent_id", two["theirs"].agent_ids[0]),
                        ("team_id", 987654), ("brand_id", 987654)):
        answer = client.get(f"/api/v1/analytics/metrics/bot?{name}={value}", **mine)
        assert answer.status_code == 404 and answer.json()["code"] == f"{name[:-3]}_not_found"
    answer = client.get("/api/v1/analytics/conversations", **theirs).json()
    assert not set(row["conversation_id"] for row in answer["items"]) & set(two["mine"].conversation_ids)
    agent = factories.make_agent(admin, "plain@example.com")
    answer = client.get("/api/v1/analytics/metrics/overview", **bearer(factories.make_token(agent)))
    assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"
    analyst = factories.make_role_member(admin, "lead@example.com", ["analytics.view"])
    assert client.get("/api/v1/analytics/series/agents", **bearer(factories.make_token(analyst))).status_code == 200
    answer = client.get("/api/v1/analytics/metrics/overview?start=2026-11-20&end=2026-11-01", **mine)
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_range"
    assert client.get("/api/v1/analytics/metrics/nonsense", **mine).status_code == 422
