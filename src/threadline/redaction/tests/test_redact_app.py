"""The timeline's Redact button in /app/: shown to admins and agents, refused to light agents and to another
workspace, and it removes the text from every copy like the API."""

from __future__ import annotations

import pytest

from threadline.channels.models import InboundEvent
from threadline.channels.webchat.testkit import Widget, make_webchat_channel
from threadline.conversations.models import Message
from threadline.tenancy.models import Role
from threadline.testing.factories import make_agent, make_api_channel, make_workspace
from threadline.web.tests.helpers import FETCH, customer_writes

SECRET = "door code 4471-Kiwi"


@pytest.fixture
def message(admin):
    return customer_writes(make_api_channel(admin), f"Hi, my {SECRET}, thanks")


def as_member(client, member):
    client.force_login(member.user)
    return client


@pytest.mark.parametrize(("role", "status", "button"),
                         [(Role.ADMIN, 200, True), (Role.AGENT, 200, True), (Role.LIGHT_AGENT, 403, False)])
def test_roles_matrix(client, admin, message, role, status, button):
    member = admin if role == Role.ADMIN else make_agent(admin, f"{role}@acme.example", role=role)
    client = as_member(client, member)
    page = client.get(f"/app/c/{message.conversation_id}/").content.decode()
    assert (f'action="/app/x/messages/{message.pk}/redact"' in page) == button
    response = client.post(f"/app/x/messages/{message.pk}/redact", {"text": SECRET}, **FETCH)
    assert response.status_code == status, response.content
    message.refresh_from_db()
    assert (SECRET in message.text) == (status != 200)


def test_another_workspace_gets_404(client, message):
    client = as_member(client, make_workspace("Other"))
    response = client.post(f"/app/x/messages/{message.pk}/redact", {"text": SECRET}, **FETCH)
    assert response.status_code == 404
    message.refresh_from_db()
    assert SECRET in message.text


def test_redacting_from_the_timeline_reaches_the_widget_payload_too(client, admin):
    channel = make_webchat_channel(admin)
    said = Widget(client, channel).start().say(f"card 4242 4242 4242 4242 and {SECRET}", "c-1")
    assert said.status_code in (200, 201), said.content
    message = Message.objects.get(channel=channel)
    assert message.text == f"card [card ••••4242] and {SECRET}"  # masked at ingest, the widget's payload too
    raw = bytes(InboundEvent.objects.get(channel=channel).body).decode()
    assert "4242 4242" not in raw and SECRET in raw
    response = as_member(client, admin).post(f"/app/x/messages/{message.pk}/redact", {"text": SECRET})
    assert response.status_code == 302 and response["Location"] == f"/app/c/{message.conversation_id}/"
    assert Message.objects.get(pk=message.pk).text == "card [card ••••4242] and [redacted]"
    assert SECRET not in bytes(InboundEvent.objects.get(channel=channel).body).decode()
