from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from threadline.core.schemas import PageQuery
from threadline.migration.models import Source


class ImportRunQuery(PageQuery):
    source: Source | None = Field(None, description="`zendesk`, `freshdesk` or `helpscout`")


class ImportRunOut(Schema):
    id: int
    source: str
    state: str = Field(description="`running`, `finished` or `failed`")
    counts: dict[str, dict[str, int]] = Field(description="Per stage: imported, updated, matched, unchanged, skipped")
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


class ImportRunPage(Schema):
    items: list[ImportRunOut]
    next_cursor: str | None


class SkippedQuery(PageQuery):
    kind: str | None = Field(None, max_length=16, description="agent, organization, contact, identity, ticket, "
                                                                "comment, attachment or rating")


class SkippedOut(Schema):
    id: int
    kind: str
    external_id: str
    code: str
    reason: str


class SkippedPage(Schema):
    items: list[SkippedOut]
    next_cursor: str | None
