"""Test helpers for the chat widget: a channel, a visitor session through the widget's own API, and the
widget's socket."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.channels.models import Channel
from threadline.channels.webchat.tokens import identity_token
from threadline.tenancy.models import Membership

SECRET = "widget-identity-secret-0123456789"


def make_webchat_channel(admin: Membership, **config: Any) -> Channel:
    with transaction.atomic():
        return do_create_channel(admin, "webchat", "Website chat", {"secret": SECRET, **config})


class Widget:
    """One browser's widget session, driven through the same HTTP API the chat frame uses."""

    def __init__(self, client: Any, channel: Channel, token: str = "") -> None:
        self.client = client
        self.channel = channel
        self.token = token
        self.base = f"/widget/{channel.pk}"

    def start(self) -> Widget:
        response = self.post("session", {"token": self.token, "page_url": "https://shop.example/cart"})
        assert response.status_code == 200, response.content
        self.token = response.json()["token"]
        return self

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"{self.base}/{path}", json.dumps(body), content_type="application/json",
                                HTTP_X_VISITOR_TOKEN=self.token)

    def identify(self, user_id: str, *, email: str = "", name: str = "", phone: str = "",
                 token: str | None = None) -> Any:
        """What the page does with the token its server minted (signed with the channel's secret)."""
        signed = identity_token(SECRET, user_id, email=email, name=name, phone=phone) if token is None else token
        response = self.post("identify", {"token": signed})
        if response.status_code == 200 and response.json().get("token"):
            self.token = response.json()["token"]
        return response

    def say(self, text: str, client_id: str, **files: Any) -> Any:
        return self.client.post(f"{self.base}/messages", {"client_id": client_id, "text": text, **files},
                                HTTP_X_VISITOR_TOKEN=self.token)

    def history(self) -> list[dict[str, Any]]:
        response = self.client.get(f"{self.base}/messages", HTTP_X_VISITOR_TOKEN=self.token)
        assert response.status_code == 200, response.content
        return response.json()["messages"]


def socket_path(channel: Channel, token: str, language: str = "en") -> str:
    return f"/ws/webchat/{channel.pk}/?token={token}&lang={language}"
