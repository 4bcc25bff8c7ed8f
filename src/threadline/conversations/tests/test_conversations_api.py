"""/api/v1/conversations through HTTP: listing with filters and stable cursors, details, updates, merge."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from threadline.conversations.models import Conversation
from threadline.conversations.tests.builders import bearer, inbound_conversation, send_json
from threadline.testing.factories import make_agent, make_api_channel, make_token, make_workspace


@pytest.fixture
def channel(admin):
    return make_api_channel(admin)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_detail_shows_contact_channels_tags_and_links(api, admin, channel, client, run_jobs):
    conversation = inbound_conversation(client, channel, run_jobs, "m-1", "Dana@Example.com", "Where is order 7?",
                                        subject="Order 7")
    response = api.get(f"/api/v1/conversations/{conversation.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["subject"] == "Order 7"
    assert body["status"] == "new"
    assert body["contact"]["identities"] == [{"kind": "email", "address": "dana@example.com", "verified": True}]
    assert body["origin_channel"] == {"id": channel.pk, "kind": "api", "name": "Shop backend"}
    assert body["last_inbound_channel"] == body["origin_channel"]
    assert body["assignee"] is None and body["team"] is None and body["tags"] == []
    assert body["previous_id"] is None and body["merged_into_id"] is None
    assert dt.datetime.fromisoformat(body["last_inbound_at"]).tzinfo is not None


def test_other_workspace_conversation_is_not_found(api, channel, client, run_jobs):
    other_admin = make_workspace("Other Co")
    other = inbound_conversation(client, make_api_channel(other_admin), run_jobs, "x-1", "eve@example.com")
    response = api.get(f"/api/v1/conversations/{other.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "conversation_not_found"
    assert other.pk not in ids(api.get("/api/v1/conversations"))


def test_patch_changes_fields_and_writes_the_timeline(api, admin, channel, client, run_jobs):
    conversation = inbound_conversation(client, channel, run_jobs, "m-1", "dana@example.com")
    agent = make_agent(admin, "bob@acme.example")
    team = send_json(api, "post", "/api/v1/teams", {"name": "Billing", "member_ids": [agent.pk]}).json()
    response = send_json(api, "patch", f"/api/v1/conversations/{conversation.pk}", {
        "status": "pending", "priority": "high", "assignee_id": agent.pk, "team_id": team["id"],
        "tags": ["vip", "refund", "vip"], "subject": "Refund for order 7",
    })
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["priority"], body["subject"]) == ("pending", "high", "Refund for order 7")
    assert body["assignee"]["id"] == agent.pk and body["assignee"]["email"] == "bob@acme.example"
    assert body["team"] == {"id": team["id"], "name": "Billing"}
    assert body["tags"] == ["refund", "vip"]
    kinds = [e["kind"] for e in api.get(f"/api/v1/conversations/{conversation.pk}/events").json()["items"]]
    assert kinds[0] == "created"
    assert {"status_changed", "priority_changed", "assigned", "team_changed", "tags_changed"} <= set(kinds)

    cleared = send_json(api, "patch", f"/api/v1/conversations/{conversation.pk}", {"assignee_id": None})
    assert cleared.json()["assignee"] is None
    assert cleared.json()["team"]["id"] == team["id"]  # fields not sent are left alone


@pytest.mark.parametrize(("document", "status", "code"), [
    ({"status": "archived"}, 422, "invalid"),
    ({"assignee_id": 0}, 422, "invalid"),
    ({"tags": ["x" * 101]}, 422, "invalid"),
])
def test_patch_rejects_bad_values(api, channel, client, run_jobs, document, status, code):
    conversation = inbound_conversation(client, channel, run_jobs, "m-1", "dana@example.com")
    response = send_json(api, "patch", f"/api/v1/conversations/{conversation.pk}", document)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_patch_with_an_agent_of_another_workspace_is_not_found(api, channel, client, run_jobs):
    conversation = inbound_conversation(client, channel, run_jobs, "m-1", "dana@example.com")
    stranger = make_workspace("Other Co")
    response = send_json(api, "patch", f"/api/v1/conversations/{conversation.pk}", {"assignee_id": stranger.pk})
    assert (response.status_code, response.json()["code"]) == (404, "agent_not_found")
    assert Conversation.objects.get(pk=conversation.pk).assignee_id is None


def test_filters(api, admin, channel, client, run_jobs):
    me_convo = inbound_conversation(client, channel, run_jobs, "m-1", "a@example.com")
    bob = make_agent(admin, "bob@acme.example")
    bob_convo = inbound_conversation(client, channel, run_jobs, "m-2", "b@example.com")
    loose = inbound_conversation(client, channel, run_jobs, "m-3", "c@example.com")
    second_channel = make_api_channel(admin, secret="t" * 32)
    other_channel = inbound_conversation(client, second_channel, run_jobs, "m-4", "d@example.com")
    send_json(api, "patch", f"/api/v1/conversations/{me_convo.pk}",
              {"assignee_id": admin.pk, "status": "pending", "tags": ["vip"]})
    send_json(api, "patch", f"/api/v1/conversations/{bob_convo.pk}", {"assignee_id": bob.pk, "status": "solved"})
    Conversation.objects.filter(pk=loose.pk).update(language="he")

    assert ids(api.get("/api/v1/conversations?assignee=me")) == [me_convo.pk]
    assert ids(api.get(f"/api/v1/conversations?assignee={bob.pk}")) == [bob_convo.pk]
    assert ids(api.get("/api/v1/conversations?assignee=none")) == [other_channel.pk, loose.pk]
    assert ids(api.get("/api/v1/conversations?status=pending&status=solved")) == [bob_convo.pk, me_convo.pk]
    assert ids(api.get("/api/v1/conversations?status=pending,solved")) == [bob_convo.pk, me_convo.pk]
    assert ids(api.get("/api/v1/conversations?tag=vip")) == [me_convo.pk]
    assert ids(api.get("/api/v1/conversations?language=he")) == [loose.pk]
    assert ids(api.get(f"/api/v1/conversations?channel={second_channel.pk}")) == [other_channel.pk]
    assert ids(api.get(f"/api/v1/conversations?contact={loose.contact_id}")) == [loose.pk]
    assert api.get("/api/v1/conversations?assignee=someone").status_code == 422
    assert api.get("/api/v1/conversations?status=archived").status_code == 422


def test_channel_filter_finds_a_conversation_continued_on_another_channel(api, admin, channel, client, run_jobs):
    conversation = inbound_conversation(client, channel, run_jobs, "m-1", "a@example.com")
    second = make_api_channel(admin, secret="t" * 32)
    assert inbound_conversation(client, second, run_jobs, "m-2", "a@example.com") == conversation
    assert ids(api.get(f"/api/v1/conversations?channel={second.pk}")) == [conversation.pk]


def test_updated_since_needs_an_aware_moment(api, channel, client, run_jobs):
    old = inbound_conversation(client, channel, run_jobs, "m-1", "a@example.com")
    fresh = inbound_conversation(client, channel, run_jobs, "m-2", "b@example.com")
    moment = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    Conversation.objects.filter(pk=old.pk).update(updated_at=moment - dt.timedelta(days=1))
    Conversation.objects.filter(pk=fresh.pk).update(updated_at=moment)
    response = api.get("/api/v1/conversations", {"updated_since": moment.isoformat()})
    assert ids(response) == [fresh.pk]
    naive = api.get("/api/v1/conversations", {"updated_since": "2030-01-01T00:00:00"})
    assert naive.status_code == 422


def test_cursor_pages_never_skip_or_repeat_while_conversations_change(api, channel, client, run_jobs):
    created = [inbound_conversation(client, channel, run_jobs, f"m-{n}", f"c{n}@example.com").pk
               for n in range(7)]
    first = api.get("/api/v1/conversations?limit=3").json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    # Between pages: one seen and one not yet seen conversation are updated, and a new one arrives.
    send_json(api, "patch", f"/api/v1/conversations/{first['items'][0]['id']}", {"priority": "urgent"})
    send_json(api, "patch", f"/api/v1/conversations/{created[0]}", {"priority": "urgent"})
    inbound_conversation(client, channel, run_jobs, "m-new", "new@example.com")
    seen = [item["id"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        following = api.get("/api/v1/conversations", {"limit": 3, "cursor": cursor}).json()
        seen += [item["id"] for item in following["items"]]
        cursor = following["next_cursor"]
    assert sorted(seen) == sorted(created)


def test_a_bad_cursor_is_a_400(api):
    for cursor in ("not-a-cursor", "eyJhZnRlciI6IDk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5fQ"):  # {"after": 10**22}
        response = api.get("/api/v1/conversations", {"cursor": cursor})
        assert (response.status_code, response.json()["code"]) == (400, "invalid_cursor")


def test_listing_costs_the_same_number_of_queries_for_more_conversations(api, admin, channel, client, run_jobs):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v1/conversations").status_code == 200
        return len(queries)

    for n in range(2):
        conversation = inbound_conversation(client, channel, run_jobs, f"m-{n}", f"c{n}@example.com")
        send_json(api, "patch", f"/api/v1/conversations/{conversation.pk}",
                  {"assignee_id": admin.pk, "tags": ["a", "b"]})
    few = count()
    for n in range(2, 8):
        conversation = inbound_conversation(client, channel, run_jobs, f"m-{n}", f"c{n}@example.com")
        send_json(api, "patch", f"/api/v1/conversations/{conversation.pk}",
                  {"assignee_id": admin.pk, "tags": ["a", "c"]})
    assert count() == few


def test_merge_moves_messages_and_links_both(api, channel, client, run_jobs):
    source = inbound_conversation(client, channel, run_jobs, "m-1", "a@example.com", "first")
    target = inbound_conversation(client, channel, run_jobs, "m-2", "b@example.com", "second")
    response = send_json(api, "post", f"/api/v1/conversations/{source.pk}/merge", {"into_id": target.pk})
    assert response.status_code == 200, response.content
    assert response.json()["id"] == target.pk
    merged = api.get(f"/api/v1/conversations/{source.pk}").json()
    assert (merged["merged_into_id"], merged["status"]) == (target.pk, "closed")
    texts = [m["text"] for m in api.get(f"/api/v1/conversations/{target.pk}/messages").json()["items"]]
    assert texts == ["first", "second"]
    again = send_json(api, "post", f"/api/v1/conversations/{source.pk}/merge", {"into_id": target.pk})
    assert (again.status_code, again.json()["code"]) == (409, "conversation_merged")
    itself = send_json(api, "post", f"/api/v1/conversations/{target.pk}/merge", {"into_id": target.pk})
    assert (itself.status_code, itself.json()["code"]) == (400, "merge_self")


def test_light_agent_may_only_add_notes(client, admin, channel, run_jobs):
    conversation = inbound_conversation(client, channel, run_jobs, "m-1", "a@example.com")
    other = inbound_conversation(client, channel, run_jobs, "m-2", "b@example.com")
    light = bearer(make_token(make_agent(admin, "lee@acme.example", role="light_agent")))
    url = f"/api/v1/conversations/{conversation.pk}"
    refused = [
        send_json(client, "post", f"{url}/messages", {"text": "hi"}, **light),
        send_json(client, "patch", url, {"status": "solved"}, **light),
        send_json(client, "post", f"{url}/merge", {"into_id": other.pk}, **light),
    ]
    assert [(r.status_code, r.json()["code"]) for r in refused] == [(403, "permission_denied")] * 3
    note = send_json(client, "post", f"{url}/notes", {"text": "Customer called, see CRM"}, **light)
    assert note.status_code == 201, note.content
    assert client.get(url, **light).json()["status"] == "new"
    assert note.json()["is_note"] is True
