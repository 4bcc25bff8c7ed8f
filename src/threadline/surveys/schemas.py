from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from threadline.core.schemas import Id, PageQuery
from threadline.surveys.models import Kind


class SurveyResponseQuery(PageQuery):
    kind: Kind | None = Field(None, description="`csat`, `ces` or `nps`")
    conversation_id: Id | None = None


class SurveyResponseOut(Schema):
    id: int
    conversation_id: int
    contact_id: int
    channel_id: int | None
    kind: str
    score: int
    comment: str
    responded_at: dt.datetime


class SurveyResponsePage(Schema):
    items: list[SurveyResponseOut]
    next_cursor: str | None
