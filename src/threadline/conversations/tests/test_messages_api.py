"""Messages through /api/v1: listing oldest first, replies with attachments, notes, attachment downloads."""

from __future__ import annotations

import base64
import hashlib

import pytest

from threadline.channels.models import Delivery
from threadline.conversations.tests.builders import bearer, inbound_conversation, send_json
from threadline.testing.factories import make_api_channel, make_token, make_workspace

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4


@pytest.fixture
def conversation(admin, client, run_jobs):
    channel = make_api_channel(admin)
    return inbound_conversation(
        client, channel, run_jobs, "m-1", "dana@example.com", "My invoice is wrong",
        attachments=[{"filename": "invoice.pdf", "content_type": "application/pdf",
                      "content_base64": base64.b64encode(PDF).decode()}],
    )


def test_reply_is_queued_with_its_attachment_and_listed_after_the_inbound(api, admin, conversation):
    url = f"/api/v1/conversations/{conversation.pk}/messages"
    response = send_json(api, "post", url, {
        "text": "Here is the corrected one", "attachments": [
            {"filename": "fixed.pdf", "content_type": "application/pdf",
             "content_base64": base64.b64encode(b"%PDF fixed").decode()}],
    })
    assert response.status_code == 201, response.content
    reply = response.json()
    assert (reply["direction"], reply["status"], reply["is_note"]) == ("out", "queued", False)
    assert reply["author_agent"]["id"] == admin.pk
    assert reply["channel"]["id"] == conversation.origin_channel_id
    assert reply["identity"] == {"kind": "email", "address": "dana@example.com"}
    assert [a["filename"] for a in reply["attachments"]] == ["fixed.pdf"]
    assert Delivery.objects.filter(message_id=reply["id"]).exists()

    listing = api.get(url).json()
    assert [m["text"] for m in listing["items"]] == ["My invoice is wrong", "Here is the corrected one"]
    assert listing["items"][0]["direction"] == "in"
    assert api.get(f"/api/v1/messages/{reply['id']}").json()["text"] == "Here is the corrected one"


def test_messages_page_oldest_first_with_a_cursor(api, conversation):
    url = f"/api/v1/conversations/{conversation.pk}"
    for n in range(4):
        assert send_json(api, "post", f"{url}/notes", {"text": f"note {n}"}).status_code == 201
    first = api.get(f"{url}/messages", {"limit": 2}).json()
    second = api.get(f"{url}/messages", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get(f"{url}/messages", {"limit": 2, "cursor": second["next_cursor"]}).json()
    texts = [m["text"] for page in (first, second, third) for m in page["items"]]
    assert texts == ["My invoice is wrong", "note 0", "note 1", "note 2", "note 3"]
    assert third["next_cursor"] is None


@pytest.mark.parametrize(("document", "status", "code"), [
    ({"text": "   "}, 400, "empty_message"),
    ({"text": ""}, 422, "invalid"),
    ({"text": "x", "attachments": [{"filename": "a.txt", "content_base64": "@@@"}]}, 400, "invalid_base64"),
    ({"text": "x", "attachments": [{"filename": "run.exe", "content_base64": "TVo="}]}, 400,
     "attachment_type_blocked"),
    ({"text": "x", "channel_id": 999_999}, 404, "channel_not_found"),
])
def test_bad_replies_are_refused_and_nothing_is_queued(api, conversation, document, status, code):
    response = send_json(api, "post", f"/api/v1/conversations/{conversation.pk}/messages", document)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Delivery.objects.exists()


def test_reply_on_another_workspaces_channel_is_not_found(api, conversation):
    foreign = make_api_channel(make_workspace("Other Co"))
    response = send_json(api, "post", f"/api/v1/conversations/{conversation.pk}/messages",
                         {"text": "hi", "channel_id": foreign.pk})
    assert (response.status_code, response.json()["code"]) == (404, "channel_not_found")


def test_attachment_downloads_with_its_bytes_and_safe_headers(api, conversation):
    inbound = api.get(f"/api/v1/conversations/{conversation.pk}/messages").json()["items"][0]
    [attachment] = inbound["attachments"]
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest()
    response = api.get(attachment["url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_attachment_of_another_workspace_is_not_found(client, conversation):
    inbound = conversation.messages.get()
    attachment_id = inbound.attachments.get().pk
    stranger = bearer(make_token(make_workspace("Other Co")))
    response = client.get(f"/api/v1/attachments/{attachment_id}", **stranger)
    assert (response.status_code, response.json()["code"]) == (404, "attachment_not_found")


def test_attachment_whose_file_is_gone_is_a_404(api, conversation):
    attachment = conversation.messages.get().attachments.get()
    attachment.file.storage.delete(attachment.file.name)
    response = api.get(f"/api/v1/attachments/{attachment.pk}")
    assert (response.status_code, response.json()["code"]) == (404, "attachment_missing")
