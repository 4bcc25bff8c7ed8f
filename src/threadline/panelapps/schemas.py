"""Request and response shapes of /api/v1/panel-apps. Secrets are written, never read back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import Input


class PanelAppOut(Schema):
    id: int
    name: str
    kind: str
    base_url: str
    is_active: bool
    position: int
    created_at: dt.datetime


class PanelAppIn(Input):
    kind: str = Field(description="custom, shopify or woocommerce")
    name: str = Field(min_length=1, max_length=80)
    base_url: str = Field(min_length=1, max_length=300, description="The card URL, shop or WordPress site address")
    secrets: dict[str, str] = Field(default_factory=dict, description=(
        "custom: secret; shopify: access_token; woocommerce: consumer_key, consumer_secret"))
    is_active: bool = True
    position: int = Field(0, ge=0, le=1000)


class PanelAppPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=80)
    base_url: str | None = Field(None, min_length=1, max_length=300)
    secrets: dict[str, str] | None = None
    is_active: bool | None = None
    position: int | None = Field(None, ge=0, le=1000)


class PanelCardOut(Schema):
    app_id: int
    name: str
    kind: str
    card: dict[str, Any] | None = Field(description="title, sections [{title, fields [{label, value, url}]}], actions")
    error: str = Field(description="Why the card could not be read (the app's answer or silence)")


class PanelActionIn(Input):
    action: str = Field(min_length=1, max_length=100)


class PanelActionOut(Schema):
    message: str
