from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from threadline.core.schemas import PageQuery


class CrisisQuery(PageQuery):
    status: str | None = Field(None, description="`open` or `closed`")


class CrisisOut(Schema):
    id: int
    key: str = Field(description="The series that names it: `topic:<topic>`, `channel:<kind>` or `all`")
    kind: str = Field(description="`volume` or `negative`")
    status: str
    description: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    closed_why: str
    mentions: int
    why: dict[str, Any] = Field(description="The figures of each series that joined it")
    holding_reply_id: int | None


class CrisisPage(Schema):
    items: list[CrisisOut]
    next_cursor: str | None
