"""/api/v1/audit and the /app/audit screen: filters, keyset paging, export, admins only, one workspace."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import time_machine
from django.db import transaction

from threadline.audit.actions import record
from threadline.testing import factories

START = dt.datetime(2026, 5, 4, 8, 0, tzinfo=dt.UTC)


def seed(admin, count=5):
    with transaction.atomic():
        for n in range(count):
            record("workspace.settings_changed", workspace_id=admin.workspace_id, details={"n": n}, actor=admin,
                   at=START + dt.timedelta(hours=n))


def test_filters_and_keyset_paging(api, admin):
    seed(admin)
    agent = factories.make_agent(admin, "ben@example.com")
    with transaction.atomic():
        record("channel.updated", workspace_id=admin.workspace_id, actor=agent, at=START)
    listed = api.get("/api/v1/audit", {"action": "workspace.settings_changed", "limit": 2})
    assert listed.status_code == 200, listed.content
    body = listed.json()
    assert [e["details"]["n"] for e in body["items"]] == [4, 3]
    rest = api.get("/api/v1/audit", {"action": "workspace.settings_changed", "limit": 10,
                                     "cursor": body["next_cursor"]}).json()
    assert [e["details"]["n"] for e in rest["items"]] == [2, 1, 0] and rest["next_cursor"] is None
    window = api.get("/api/v1/audit", {"since": (START + dt.timedelta(hours=1)).isoformat(),
                                       "until": (START + dt.timedelta(hours=3)).isoformat()}).json()
    assert sorted(e["details"].get("n") for e in window["items"]) == [1, 2]
    by_agent = api.get("/api/v1/audit", {"actor": str(agent.pk)}).json()["items"]
    assert [e["action"] for e in by_agent] == ["channel.updated"] and by_agent[0]["actor_id"] == agent.pk
    prefix = api.get("/api/v1/audit", {"action": "agent.*"}).json()["items"]
    assert {e["action"] for e in prefix} == {"agent.added"}
    assert api.get("/api/v1/audit", {"actor": "someone"}).json()["code"] == "invalid_actor"
    system = api.get("/api/v1/audit", {"actor": "system"}).json()["items"]
    assert all(e["actor_kind"] == "system" for e in system)


def test_csv_and_json_export(api, admin):
    seed(admin, 3)
    answer = api.get("/api/v1/audit/export", {"action": "workspace.settings_changed"})
    assert answer.status_code == 200 and answer["Content-Type"] == "text/csv"
    assert "attachment" in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert [json.loads(r["details"])["n"] for r in rows] == [2, 1, 0]
    assert rows[0]["actor_label"] == admin.user.email and rows[0]["action"] == "workspace.settings_changed"
    lines = b"".join(api.get("/api/v1/audit/export", {"format": "json", "action": "workspace.*"})
                     .streaming_content).decode().splitlines()
    assert [json.loads(line)["details"]["n"] for line in lines] == [2, 1, 0]


def test_only_admins_read_it_and_only_their_workspace(client, admin):
    seed(admin, 1)
    other = factories.make_workspace("Other Shop")
    seed(other, 2)
    other_token = factories.make_token(other)
    theirs = client.get("/api/v1/audit", HTTP_AUTHORIZATION=f"Bearer {other_token}").json()["items"]
    assert theirs and {e["actor_label"] for e in theirs} <= {"", other.user.email, f"{other.user.email} (api)"}
    assert admin.user.email not in json.dumps(theirs)
    exported = b"".join(client.get("/api/v1/audit/export", HTTP_AUTHORIZATION=f"Bearer {other_token}")
                        .streaming_content).decode()
    assert admin.user.email not in exported
    for role in ("agent", "light_agent"):
        member = factories.make_agent(admin, f"{role}@example.com", role=role)
        token = factories.make_token(member)
        for path in ("/api/v1/audit", "/api/v1/audit/export"):
            answer = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
            assert answer.status_code == 403 and answer.json()["code"] == "permission_denied", (role, path)
        client.force_login(member.user)
        assert client.get("/app/audit").status_code == 403
        assert client.get("/app/audit/export").status_code == 403


def test_the_audit_screen(client, admin):
    seed(admin, 60)
    other = factories.make_workspace("Other Shop")
    with transaction.atomic():
        record("channel.created", workspace_id=other.workspace_id, details={"name": "secret-shop-channel"},
               actor=other)
    client.force_login(admin.user)
    with time_machine.travel(START + dt.timedelta(days=3), tick=False):
        page = client.get("/app/audit", {"action": "workspace.settings_changed"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Audit log" in text and "Older entries" in text and "secret-shop-channel" not in text
    assert text.count("<tr>") == 51  # the header and a page of 50
    older = client.get(page.context["next_cursor"] and f"/app/audit?cursor={page.context['next_cursor']}"
                       "&action=workspace.settings_changed")
    assert older.content.decode().count("<tr>") == 11
    assert client.get("/app/audit", {"since": "yesterday"}).status_code == 400
    day = client.get("/app/audit", {"since": "2026-05-04", "until": "2026-05-04",
                                    "action": "workspace.settings_changed"})
    assert day.content.decode().count("<tr>") == 17  # 08:00..23:00 UTC of that day
    exported = b"".join(client.get("/app/audit/export", {"format": "csv"}).streaming_content).decode()
    assert exported.startswith("id,created_at,action") and "secret-shop-channel" not in exported
    admin.user.language = "he"
    admin.user.save(update_fields=["language"])
    rtl = client.get("/app/audit").content.decode()
    assert '<html lang="he" dir="rtl">' in rtl and '<bdi dir="ltr">' in rtl
