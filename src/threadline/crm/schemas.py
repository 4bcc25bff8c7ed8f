"""Request and response shapes of /api/v1/crm."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import Input


class CrmConnectionOut(Schema):
    provider: str
    client_id: str
    is_active: bool
    account: str
    create_missing: bool
    api_url: str


class CrmConnectionIn(Input):
    client_id: str = Field(min_length=1, max_length=300)
    client_secret: str | None = Field(None, max_length=500, description="Kept when not given")
    create_missing: bool = True
    auth_url: str | None = Field(None, max_length=300, description="Salesforce: a sandbox or My Domain login URL")
    api_url: str | None = Field(None, max_length=300, description="HubSpot's API address (a proxy's, a test server's)")


class CrmConfiguredOut(CrmConnectionOut):
    authorize_url: str = Field(description="Open it as the admin to give Threadline access (OAuth 2)")


class CrmLinkOut(Schema):
    provider: str
    external_id: str
    url: str
    company: str
    owner: str
    synced_at: dt.datetime


class CrmLogOut(Schema):
    id: int
    provider: str
    contact_id: int | None
    kind: str
    field: str
    ours: str
    theirs: str
    kept: str
    detail: str
    created_at: dt.datetime


class CrmLogPage(Schema):
    items: list[CrmLogOut]
    next_cursor: str | None
