"""/api/v1/channels: admins create and configure channels; secrets can be written, never read back."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from threadline.channels.api.adapter import sign
from threadline.channels.models import Channel
from threadline.conversations.tests.builders import bearer, send_json
from threadline.testing.factories import make_agent, make_token

SECRET = "shop-secret-0123456789-abcdef"


def create(api, **config):
    return send_json(api, "post", "/api/v1/channels", {
        "kind": "api", "name": "Shop backend", "config": {"secret": SECRET, "webhook_url": "https://shop.example/in",
                                                           **config}})


def post_signed(client, channel_id: int, secret: str, message_id: str):
    body = json.dumps({"message_id": message_id, "sender": {"address": "c-1"}, "text": "hi"}).encode()
    return client.post(f"/hooks/api/{channel_id}/", body, content_type="application/json",
                       HTTP_X_THREADLINE_SIGNATURE=sign(secret, body))


def test_create_answers_config_without_the_secret(api):
    response = create(api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert SECRET.encode() not in response.content
    assert body["config"] == {"secret": "********", "webhook_url": "https://shop.example/in"}
    assert body["secrets_set"] == ["secret"]
    assert body["inbound_webhook_url"] == f"{settings.PUBLIC_URL}/hooks/api/{body['id']}/"
    for answer in (api.get("/api/v1/channels"), api.get(f"/api/v1/channels/{body['id']}")):
        assert answer.status_code == 200
        assert SECRET.encode() not in answer.content
    assert Channel.objects.get(pk=body["id"]).config["secret"] == SECRET


def test_patch_merges_config_and_keeps_the_secret(api, client):
    channel_id = create(api).json()["id"]
    shown = api.get(f"/api/v1/channels/{channel_id}").json()["config"]
    response = send_json(api, "patch", f"/api/v1/channels/{channel_id}",
                         {"name": "Shop", "config": {**shown, "webhook_url": "https://shop.example/v2"}})
    assert response.status_code == 200, response.content
    assert response.json()["config"] == {"secret": "********", "webhook_url": "https://shop.example/v2"}
    assert response.json()["name"] == "Shop"
    assert post_signed(client, channel_id, SECRET, "m-1").status_code == 202  # the secret did not change


def test_patch_replaces_the_secret(api, client):
    channel_id = create(api).json()["id"]
    new_secret = "rotated-secret-0123456789"
    assert send_json(api, "patch", f"/api/v1/channels/{channel_id}",
                     {"config": {"secret": new_secret}}).status_code == 200
    assert post_signed(client, channel_id, SECRET, "m-1").status_code == 401
    assert post_signed(client, channel_id, new_secret, "m-2").status_code == 202


def test_deactivated_channel_stops_accepting_inbound(api, client):
    channel_id = create(api).json()["id"]
    assert send_json(api, "patch", f"/api/v1/channels/{channel_id}", {"is_active": False}).json()["is_active"] is False
    assert post_signed(client, channel_id, SECRET, "m-1").status_code == 404


def test_a_generated_secret_is_set_but_not_shown(api):
    response = send_json(api, "post", "/api/v1/channels", {"kind": "api", "name": "Bare"})
    assert response.status_code == 201, response.content
    assert response.json()["secrets_set"] == ["secret"]
    assert Channel.objects.get(pk=response.json()["id"]).config["secret"] not in response.content.decode()


@pytest.mark.parametrize(("document", "status", "code"), [
    ({"kind": "carrier-pigeon", "name": "Coo"}, 400, "unknown_channel_kind"),
    ({"kind": "api", "name": "Shop", "config": {"secret": "short"}}, 400, "invalid_config"),
    ({"kind": "api", "name": ""}, 422, "invalid"),
])
def test_bad_channels_are_refused(api, document, status, code):
    response = send_json(api, "post", "/api/v1/channels", document)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Channel.objects.exists()


def test_agents_see_channels_but_only_admins_configure_them(api, admin, client):
    channel_id = create(api).json()["id"]
    agent = bearer(make_token(make_agent(admin, "bob@acme.example")))
    assert client.get(f"/api/v1/channels/{channel_id}", **agent).status_code == 200
    refused = send_json(client, "patch", f"/api/v1/channels/{channel_id}", {"name": "Mine"}, **agent)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    created = send_json(client, "post", "/api/v1/channels", {"kind": "api", "name": "Mine"}, **agent)
    assert (created.status_code, created.json()["code"]) == (403, "permission_denied")


def test_kinds_lists_the_api_channel_and_its_config_schema(api):
    kinds = {k["kind"]: k for k in api.get("/api/v1/channels/kinds").json()}
    assert kinds["api"]["identity_kind"] == "external"
    assert {"secret", "webhook_url"} <= set(kinds["api"]["config_schema"]["properties"])
