"""The outbound contracts: every event type's JSON Schema describes what a real delivery carries, and the polling
read (Zapier/Make) answers the same objects newest first, per workspace, to admins only."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest

from threadline.conversations.tests.builders import bearer, inbound_conversation, send_json
from threadline.events.models import OutboxEvent
from threadline.testing.factories import make_agent, make_api_channel, make_token, make_workspace
from threadline.webhooks.models import WebhookDelivery
from threadline.webhooks.queries import event_types
from threadline.webhooks.tasks import event_body


@pytest.fixture
def traffic(admin, client, run_jobs, api):  # noqa: ARG001 - `api` sets the admin's token on the client
    """Two conversations through the API channel, one solved: messages, conversations, language, SLA events."""
    channel = make_api_channel(admin)
    first = inbound_conversation(client, channel, run_jobs, "m-1", "dana@example.com", text="first")
    inbound_conversation(client, channel, run_jobs, "m-2", "omer@example.com", text="second")
    response = send_json(api, "patch", f"/api/v1/conversations/{first.pk}", {"status": "solved"})
    assert response.status_code == 200, response.content
    run_jobs()
    return first


def test_every_event_type_has_a_valid_schema(api):
    for event in event_types():
        response = api.get(f"/api/v1/webhooks/event-types/{event.type}/schema")
        assert response.status_code == 200, (event.type, response.content)
        schema = response.json()
        assert jsonschema_rs.meta.is_valid(schema), event.type
        assert schema["properties"]["type"] == {"const": event.type}
        assert set(schema["properties"]["data"]["properties"]) == set(event.fields), event.type


def test_real_deliveries_match_their_schema(api, traffic):
    events = list(OutboxEvent.objects.filter(workspace_id=traffic.workspace_id))
    assert {"message.received", "conversation.created", "conversation.updated"} <= {e.type for e in events}
    for event in events:
        schema = api.get(f"/api/v1/webhooks/event-types/{event.type}/schema").json()
        body = json.loads(event_body(WebhookDelivery(event=event)))
        jsonschema_rs.validate(schema, body)
        wrong = {**body, "data": {**body["data"], "workspace_id": "not a number"}}
        assert not jsonschema_rs.is_valid(schema, wrong), event.type


def test_unknown_event_type_is_a_404(api):
    for path in ("/api/v1/webhooks/event-types/no.such/schema", "/api/v1/webhooks/poll/no.such"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "event_type_not_found"


def test_poll_answers_newest_first_in_the_delivery_shape(api, traffic):
    items = api.get("/api/v1/webhooks/poll/message.received").json()
    assert [item["data"]["text"] for item in items] == ["second", "first"]
    assert items[0]["id"] > items[1]["id"]
    newest = OutboxEvent.objects.get(pk=items[0]["id"])
    assert items[0] == json.loads(event_body(WebhookDelivery(event=newest)))
    older = api.get(f"/api/v1/webhooks/poll/message.received?before_id={items[0]['id']}&limit=1").json()
    assert [item["id"] for item in older] == [items[1]["id"]]
    assert api.get("/api/v1/webhooks/poll/message.received?limit=0").status_code == 422


def test_poll_sees_only_its_own_workspace_and_only_admins(api, admin, traffic, client, run_jobs):
    other_admin = make_workspace("Other Desk")
    inbound_conversation(client, make_api_channel(other_admin), run_jobs, "x-1", "zed@example.com")
    theirs = api.get("/api/v1/webhooks/poll/message.received", **bearer(make_token(other_admin))).json()
    ours = api.get("/api/v1/webhooks/poll/message.received").json()
    assert len(theirs) == 1 and len(ours) == 2
    assert not {item["id"] for item in theirs} & {item["id"] for item in ours}
    agent = bearer(make_token(make_agent(admin, "agent@example.com")))
    assert api.get("/api/v1/webhooks/poll/message.received", **agent).status_code == 403
    assert api.get("/api/v1/webhooks/event-types/message.received/schema", **agent).status_code == 200
