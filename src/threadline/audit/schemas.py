"""Response and query shapes of /api/v1/audit."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import PageQuery


class AuditFilter(Schema):
    action: str | None = Field(None, max_length=64, description="An action such as `signin.failed`, or a prefix "
                                                                  "ending in `*` such as `token.*`")
    actor: str | None = Field(None, max_length=20, description="An agent id, or `system`")
    since: dt.datetime | None = Field(None, description="Entries at or after this time")
    until: dt.datetime | None = Field(None, description="Entries before this time")


class AuditQuery(AuditFilter, PageQuery):
    pass


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


class AuditExportQuery(AuditFilter):
    format: ExportFormat = Field(ExportFormat.CSV, description="`csv`, or `json` (JSON Lines)")


class AuditEntryOut(Schema):
    id: int
    created_at: dt.datetime
    action: str
    actor_kind: str = Field(description="user, token or system")
    actor_id: int | None = Field(None, description="The agent who acted, when it was one",
                                 alias="actor_membership_id")
    actor_label: str
    target_type: str
    target_id: str
    ip: str | None
    user_agent: str
    details: dict[str, Any]


class AuditPage(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None
