"""The email channel's REST endpoints through HTTP: participants, the threading explanation, the original."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest

from threadline.channels.email import edge
from threadline.channels.email.testkit import make_email_channel
from threadline.conversations.models import Message

_PRIVATE: list = []


def _private_client():
    """A test client for an API holding only the email router (a router joins one API, once per process)."""
    from ninja import NinjaAPI
    from ninja.testing import TestClient

    from threadline.api import errors
    from threadline.api.auth import BearerToken
    from threadline.channels.email.api import router

    if not _PRIVATE:
        private = NinjaAPI(auth=BearerToken(), urls_namespace="email-channel-tests")
        errors.install(private)
        private.add_router("/", router)
        _PRIVATE.append(TestClient(private))
    return _PRIVATE[0]


@pytest.fixture
def http(api):
    """The REST client: /api/v1 when the email router is mounted there, else a private API around it."""
    from threadline.api.urls import ROUTERS

    if any(path == "threadline.channels.email.api:router" for _prefix, path in ROUTERS):
        return lambda method, path, **kw: getattr(api, method)(f"/api/v1{path}", **kw)
    client = _private_client()
    token = api.defaults["HTTP_AUTHORIZATION"]

    def call(method, path, **kw):
        data = kw.pop("data", None)
        response = getattr(client, method)(path, json=json.loads(data) if data else None,
                                           headers={"Authorization": token})
        return response

    return call


def store(channel, run_jobs, **headers):
    message = EmailMessage()
    message["From"] = "Dana <dana@example.com>"
    message["To"] = "support@acme.test"
    message["Subject"] = "Order 1001"
    message["Message-ID"] = "<api1@example.com>"
    for key, value in headers.items():
        message[key] = value
    message.set_content("Where is it?\n\nOn Mon, Jan 5, 2026 at 10:00 AM Acme <support@acme.test> wrote:\n> Soon.")
    edge.store(channel, message.as_bytes(), transport="smtp", envelope_from="dana@example.com",
               recipients=["support@acme.test"])
    run_jobs()
    return Message.objects.get(provider_message_id="<api1@example.com>")


def test_participants_listed_added_and_removed(admin, http, run_jobs):
    channel = make_email_channel(admin)
    message = store(channel, run_jobs, Cc="Petra <petra@example.cz>")
    cid = message.conversation_id
    listed = http("get", f"/conversations/{cid}/participants")
    assert listed.status_code == 200
    assert [(p["address"], p["source"], p["active"]) for p in listed.json()] == [("petra@example.cz", "cc", True)]
    added = http("post", f"/conversations/{cid}/participants", data=json.dumps({"address": "Legal@Example.com"}),
                 content_type="application/json")
    assert added.status_code == 201 and added.json()["address"] == "legal@example.com"
    assert http("delete", f"/conversations/{cid}/participants/petra@example.cz").status_code == 204
    again = http("delete", f"/conversations/{cid}/participants/nobody@example.com")
    assert again.status_code == 400 and again.json()["code"] == "not_a_participant"
    assert {p["address"]: p["active"] for p in http("get", f"/conversations/{cid}/participants").json()} == {
        "petra@example.cz": False, "legal@example.com": True}
    assert http("get", "/conversations/999999/participants").status_code == 404


def test_email_detail_explains_threading_and_keeps_the_original(admin, http, run_jobs):
    channel = make_email_channel(admin)
    message = store(channel, run_jobs)
    detail = http("get", f"/messages/{message.pk}/email")
    assert detail.status_code == 200
    body = detail.json()
    assert body["threading_rule"] == "new_conversation"
    assert body["explanation"]
    assert body["fold_rule"] == "reply_header" and "> Soon." in body["folded"]
    assert body["has_original"] is True
    original = http("get", f"/messages/{message.pk}/email/original")
    assert original.status_code == 200
    assert b"Message-ID: <api1@example.com>" in original.content
