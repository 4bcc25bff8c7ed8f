"""End to end through HTTP only: an external system posts a customer's message to the API channel webhook,
an agent finds it and replies through the REST API, and the worker delivers the reply, signed, to the
external system (a real HTTP server), with retries on 5xx and a visible failure on a 4xx."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
import time_machine

from threadline.core.time import now

SECRET = "e2e-channel-secret-0123456789abcdef"


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def channel(api, receiver) -> dict:
    response = api.post("/api/v1/channels", json.dumps({
        "kind": "api", "name": "Shop backend", "config": {"secret": SECRET, "webhook_url": receiver.url},
    }), content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def customer_writes(client, channel: dict, message_id: str, text: str) -> None:
    body = json.dumps({
        "message_id": message_id, "text": text, "subject": "Order 1001",
        "sender": {"kind": "email", "address": "Noa.Cohen@Example.com", "name": "Noa Cohen", "verified": True},
    }, ensure_ascii=False).encode()
    path = channel["inbound_webhook_url"].split("://", 1)[1].split("/", 1)[1]
    response = client.post(f"/{path}", body, content_type="application/json", HTTP_X_THREADLINE_SIGNATURE=sign(body))
    assert response.status_code == 202, response.content


def agent_replies(api, client, channel, run_jobs, text: str) -> tuple[dict, dict]:
    customer_writes(client, channel, "shop-1001", "ההזמנה שלי לא הגיעה")
    run_jobs()
    listing = api.get("/api/v1/conversations", {"channel": channel["id"]}).json()["items"]
    assert len(listing) == 1
    conversation = listing[0]
    assert conversation["contact"]["name"] == "Noa Cohen"
    assert conversation["contact"]["identities"][0]["address"] == "noa.cohen@example.com"
    assert conversation["last_inbound_channel"]["id"] == channel["id"]
    inbound = api.get(f"/api/v1/conversations/{conversation['id']}/messages").json()["items"]
    assert [m["text"] for m in inbound] == ["ההזמנה שלי לא הגיעה"]
    reply = api.post(f"/api/v1/conversations/{conversation['id']}/messages", json.dumps({"text": text}),
                     content_type="application/json")
    assert reply.status_code == 201, reply.content
    assert reply.json()["status"] == "queued"
    return conversation, reply.json()


def message(api, message_id: int) -> dict:
    response = api.get(f"/api/v1/messages/{message_id}")
    assert response.status_code == 200
    return response.json()


def test_reply_reaches_the_external_system_signed_and_becomes_sent(api, client, channel, receiver, run_jobs):
    conversation, reply = agent_replies(api, client, channel, run_jobs, "Your parcel leaves today 📦")
    run_jobs()
    [request] = receiver.requests
    assert hmac.compare_digest(request.headers["x-threadline-signature"], sign(request.body))
    delivered = json.loads(request.body)
    assert delivered["text"] == "Your parcel leaves today 📦"
    assert delivered["recipient"] == {"kind": "email", "address": "noa.cohen@example.com"}
    assert delivered["conversation_id"] == conversation["id"]
    assert delivered["in_reply_to"] == "shop-1001"
    sent = message(api, reply["id"])
    assert (sent["status"], sent["delivery_attempts"]) == ("sent", 1)
    assert sent["provider_message_id"]


def test_a_503_is_retried_after_the_backoff_and_delivered_once(api, client, channel, receiver, run_jobs):
    receiver.statuses = [503]
    _conversation, reply = agent_replies(api, client, channel, run_jobs, "Checking with the courier")
    run_jobs()
    assert len(receiver.requests) == 1
    waiting = message(api, reply["id"])
    assert (waiting["status"], waiting["delivery_attempts"]) == ("queued", 1)
    run_jobs()
    assert len(receiver.requests) == 1  # not before the backoff
    with time_machine.travel(now() + dt.timedelta(hours=1)):
        run_jobs()
    first, second = receiver.requests
    assert first.body == second.body
    assert hmac.compare_digest(second.headers["x-threadline-signature"], sign(second.body))
    sent = message(api, reply["id"])
    assert (sent["status"], sent["delivery_attempts"]) == ("sent", 2)
    with time_machine.travel(now() + dt.timedelta(days=1)):
        run_jobs()
    assert len(receiver.requests) == 2  # delivered once: nothing is sent again


def test_a_400_marks_the_reply_failed_with_the_reason(api, client, channel, receiver, run_jobs):
    receiver.statuses = [400]
    _conversation, reply = agent_replies(api, client, channel, run_jobs, "Hello?")
    run_jobs()
    with time_machine.travel(now() + dt.timedelta(hours=1)):
        run_jobs()
    assert len(receiver.requests) == 1
    failed = message(api, reply["id"])
    assert failed["status"] == "failed"
    assert "400" in failed["status_reason"]
