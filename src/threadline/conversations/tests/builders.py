"""Test builders that go through HTTP like a real caller: an inbound API-channel message, an API token."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.test import Client

from threadline.channels.models import Channel
from threadline.conversations.models import Conversation, Message
from threadline.testing.factories import signed_body


def post_inbound(client: Client, channel: Channel, message_id: str, address: str, text: str = "Hello",
                 **fields: Any) -> Any:
    """POST one signed message to the API channel's webhook, as the external system would."""
    document = {"message_id": message_id, "sender": {"kind": "email", "address": address, "verified": True},
                "text": text, **fields}
    body, headers = signed_body(channel, document)
    response = client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers)
    assert response.status_code in (200, 202), response.content
    return response


def inbound_conversation(client: Client, channel: Channel, run_jobs: Callable[..., int], message_id: str,
                         address: str, text: str = "Hello", **fields: Any) -> Conversation:
    """A conversation created (or continued) by one inbound message, processed by the worker."""
    post_inbound(client, channel, message_id, address, text, **fields)
    run_jobs()
    return Message.objects.get(channel=channel, provider_message_id=message_id).conversation


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def send_json(client: Client, method: str, path: str, document: Any, **headers: Any) -> Any:
    return getattr(client, method)(path, json.dumps(document), content_type="application/json", **headers)
