"""Agents split a customer's message out into its own conversation and move it back, through the API."""

from __future__ import annotations

import json

from threadline.conversations.models import Conversation, Message
from threadline.testing.factories import make_agent, make_api_channel, make_token, signed_body


def inbound(client, channel, message_id, text, address="maya@example.com"):
    body, headers = signed_body(channel, {"message_id": message_id, "text": text,
                                          "sender": {"kind": "email", "address": address}})
    assert client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers).status_code == 202


def test_split_then_move_back_restores_the_conversation(api, admin, run_jobs):
    channel = make_api_channel(admin)
    inbound(api, channel, "m1", "My invoice is wrong")
    inbound(api, channel, "m2", "Also, unrelated: how do I change my password?")
    run_jobs()
    original = Conversation.objects.get()
    second = Message.objects.get(provider_message_id="m2")

    split = api.post(f"/api/v1/messages/{second.pk}/split")
    assert split.status_code == 201, split.content
    new = json.loads(split.content)
    assert new["previous_id"] == original.pk and new["id"] != original.pk
    listed = json.loads(api.get(f"/api/v1/conversations/{new['id']}/messages").content)["items"]
    assert [m["text"] for m in listed] == ["Also, unrelated: how do I change my password?"]
    assert Message.objects.get(pk=second.pk).metadata["threading"]["rule"] == "split_by_agent"
    kinds = [e["kind"] for e in json.loads(api.get(f"/api/v1/conversations/{original.pk}/events").content)["items"]]
    assert "message_split_out" in kinds

    back = api.post(f"/api/v1/messages/{second.pk}/move", {"conversation_id": original.pk},
                    content_type="application/json")
    assert back.status_code == 200, back.content
    texts = [m["text"] for m in json.loads(api.get(f"/api/v1/conversations/{original.pk}/messages").content)["items"]]
    assert texts == ["My invoice is wrong", "Also, unrelated: how do I change my password?"]
    assert json.loads(api.get(f"/api/v1/conversations/{new['id']}").content)["status"] == "closed"
    assert Message.objects.get(pk=second.pk).metadata["threading"]["before"]["rule"] == "split_by_agent"


def test_the_only_message_cannot_be_split_and_light_agents_may_not(api, client, admin, run_jobs):
    channel = make_api_channel(admin)
    inbound(api, channel, "m1", "Hello")
    run_jobs()
    only = Message.objects.get()
    refused = api.post(f"/api/v1/messages/{only.pk}/split")
    assert (refused.status_code, json.loads(refused.content)["code"]) == (400, "split_only_message")

    light = make_token(make_agent(admin, "light@example.com", role="light_agent"))
    forbidden = client.post(f"/api/v1/messages/{only.pk}/split", HTTP_AUTHORIZATION=f"Bearer {light}")
    assert (forbidden.status_code, json.loads(forbidden.content)["code"]) == (403, "permission_denied")


def test_moving_into_another_workspace_is_not_found(api, admin, run_jobs):
    from threadline.testing.factories import make_workspace

    other_admin = make_workspace("Elsewhere")
    other_channel = make_api_channel(other_admin)
    channel = make_api_channel(admin)
    inbound(api, channel, "m1", "Hello")
    inbound(api, other_channel, "x1", "Other")
    run_jobs()
    mine = Message.objects.get(provider_message_id="m1")
    theirs = Conversation.objects.get(workspace=other_admin.workspace)
    answer = api.post(f"/api/v1/messages/{mine.pk}/move", {"conversation_id": theirs.pk},
                      content_type="application/json")
    assert answer.status_code == 404
    assert Message.objects.get(pk=mine.pk).conversation.workspace_id == admin.workspace_id
