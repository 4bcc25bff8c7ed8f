"""/api/v1/webhooks: subscriptions, signed deliveries to a real receiver, retries, permanent failures, the log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from threadline.conversations.tests.builders import bearer, inbound_conversation, send_json
from threadline.core.time import now
from threadline.testing.factories import make_agent, make_api_channel, make_token
from threadline.webhooks import signing
from threadline.webhooks.models import WebhookDelivery, WebhookSubscription


def subscribe(api, url: str, event_types=("conversation.updated",), **extra):
    response = send_json(api, "post", "/api/v1/webhooks", {"url": url, "event_types": list(event_types), **extra})
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def conversation(admin, client, run_jobs):
    conversation = inbound_conversation(client, make_api_channel(admin), run_jobs, "m-1", "dana@example.com")
    WebhookDelivery.objects.all().delete()
    return conversation


def solve(api, conversation) -> None:
    response = send_json(api, "patch", f"/api/v1/conversations/{conversation.pk}", {"status": "solved"})
    assert response.status_code == 200, response.content


def log(api, subscription) -> list[dict]:
    return api.get(f"/api/v1/webhooks/{subscription['id']}/deliveries").json()["items"]


def test_subscriber_receives_a_signed_conversation_updated(api, conversation, receiver, run_jobs):
    subscription = subscribe(api, receiver.url)
    solve(api, conversation)
    run_jobs()
    [request] = receiver.requests
    assert request.headers["x-threadline-event"] == "conversation.updated"
    assert signing.verify(subscription["secret"], request.body, request.headers["x-threadline-signature"])
    assert not signing.verify("another-secret-0123456789", request.body, request.headers["x-threadline-signature"])
    event = __import__("json").loads(request.body)
    assert event["type"] == "conversation.updated"
    assert event["data"]["conversation_id"] == conversation.pk
    assert event["data"]["changes"] == {"status": "solved"}
    [entry] = log(api, subscription)
    assert (entry["state"], entry["attempts"], entry["response_status"]) == ("delivered", 1, 200)
    assert entry["event_type"] == "conversation.updated"


def test_a_500_is_retried_after_the_backoff(api, conversation, receiver, run_jobs):
    subscription = subscribe(api, receiver.url)
    receiver.statuses = [500]
    solve(api, conversation)
    run_jobs()
    [entry] = log(api, subscription)
    assert (entry["state"], entry["attempts"], entry["response_status"]) == ("pending", 1, 500)
    assert run_jobs() == 0  # the retry waits for its backoff
    with time_machine.travel(now() + dt.timedelta(minutes=5)):
        run_jobs()
        first, second = receiver.requests
        assert second.body == first.body
        assert signing.verify(subscription["secret"], second.body, second.headers["x-threadline-signature"])
    [entry] = log(api, subscription)
    assert (entry["state"], entry["attempts"], entry["response_status"]) == ("delivered", 2, 200)


@pytest.mark.parametrize("status", [408, 429, 503])
def test_timeouts_and_rate_limits_are_retried(api, conversation, receiver, run_jobs, status):
    subscription = subscribe(api, receiver.url)
    receiver.statuses = [status]
    solve(api, conversation)
    run_jobs()
    assert log(api, subscription)[0]["state"] == "pending"


def test_a_4xx_is_a_permanent_failure_then_redelivered_on_request(api, conversation, receiver, run_jobs):
    subscription = subscribe(api, receiver.url)
    receiver.statuses = [410]
    solve(api, conversation)
    run_jobs()
    with time_machine.travel(now() + dt.timedelta(hours=2)):
        run_jobs()
    assert len(receiver.requests) == 1
    [entry] = log(api, subscription)
    assert (entry["state"], entry["response_status"], entry["last_error"]) == ("failed", 410, "answered 410")

    again = api.post(f"/api/v1/webhooks/{subscription['id']}/deliveries/{entry['id']}/redeliver")
    assert again.status_code == 202, again.content
    assert again.json()["state"] == "pending"
    twice = api.post(f"/api/v1/webhooks/{subscription['id']}/deliveries/{entry['id']}/redeliver")
    assert (twice.status_code, twice.json()["code"]) == (409, "delivery_pending")
    run_jobs()
    assert len(receiver.requests) == 2
    assert log(api, subscription)[0]["state"] == "delivered"
    first, second = receiver.requests  # docs/webhooks.md: the log row's id and the event's id both stay
    assert first.headers["x-threadline-delivery"] == second.headers["x-threadline-delivery"] == str(entry["id"])
    assert json.loads(first.body)["id"] == json.loads(second.body)["id"]


def test_only_subscribed_types_are_delivered(api, conversation, receiver, run_jobs):
    subscribe(api, receiver.url, event_types=["message.created"])
    solve(api, conversation)
    send_json(api, "post", f"/api/v1/conversations/{conversation.pk}/notes", {"text": "noted"})
    run_jobs()
    assert [r.headers["x-threadline-event"] for r in receiver.requests] == ["message.created"]


def test_inactive_subscription_receives_nothing(api, conversation, receiver, run_jobs):
    subscription = subscribe(api, receiver.url, event_types=["*"])
    assert send_json(api, "patch", f"/api/v1/webhooks/{subscription['id']}",
                     {"is_active": False}).json()["is_active"] is False
    solve(api, conversation)
    run_jobs()
    assert receiver.requests == []


def test_subscription_crud_never_shows_the_secret_again(api):
    created = subscribe(api, "https://hooks.example/threadline", event_types=["*"], description="CRM sync",
                        secret="my-own-secret-0123456789")
    assert created["secret"] == "my-own-secret-0123456789"
    for answer in (api.get("/api/v1/webhooks"), api.get(f"/api/v1/webhooks/{created['id']}")):
        assert answer.status_code == 200
        assert b"my-own-secret" not in answer.content
    changed = send_json(api, "patch", f"/api/v1/webhooks/{created['id']}",
                        {"event_types": ["contact.created", "conversation.created", "contact.created"]})
    assert changed.json()["event_types"] == ["contact.created", "conversation.created"]
    assert api.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert api.get(f"/api/v1/webhooks/{created['id']}").json()["code"] == "webhook_not_found"
    assert not WebhookSubscription.objects.exists()


def test_a_generated_secret_is_returned_once(api):
    created = subscribe(api, "https://hooks.example/a")
    assert len(created["secret"]) >= 32


@pytest.mark.parametrize(("document", "status", "code"), [
    ({"url": "ftp://hooks.example/x", "event_types": ["*"]}, 400, "invalid_url"),
    ({"url": "not a url", "event_types": ["*"]}, 400, "invalid_url"),
    ({"url": "http://hooks.example:99999/", "event_types": ["*"]}, 400, "invalid_url"),
    ({"url": "https://hooks.example/x", "event_types": ["conversation.exploded"]}, 400, "invalid_event_types"),
    ({"url": "https://hooks.example/x", "event_types": []}, 422, "invalid"),
    ({"url": "https://hooks.example/x", "event_types": ["*"], "secret": "short"}, 422, "invalid"),
])
def test_bad_subscriptions_are_refused(api, document, status, code):
    response = send_json(api, "post", "/api/v1/webhooks", document)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not WebhookSubscription.objects.exists()


def test_webhooks_are_for_admins(admin, client):
    agent = bearer(make_token(make_agent(admin, "bob@acme.example")))
    assert client.get("/api/v1/webhooks", **agent).json()["code"] == "permission_denied"
    refused = send_json(client, "post", "/api/v1/webhooks", {"url": "https://x.example", "event_types": ["*"]},
                        **agent)
    assert refused.status_code == 403
    assert client.get("/api/v1/webhooks/event-types", **agent).status_code == 200


def test_event_types_lists_every_domain_event(api):
    listed = {e["type"]: e for e in api.get("/api/v1/webhooks/event-types").json()}
    expected = {"conversation.created", "conversation.updated", "conversation.merged", "message.received",
                "message.created", "message.status_changed", "contact.created", "contact.merged",
                "contact.unmerged", "agent.created", "team.changed"}
    assert expected <= set(listed)
    assert {"workspace_id", "conversation_id", "changes"} <= set(listed["conversation.updated"]["fields"])
    assert listed["message.created"]["description"].startswith("An agent's")
