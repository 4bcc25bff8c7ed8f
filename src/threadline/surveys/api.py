"""/api/v1/surveys: the customers' answers, newest first, cursor paged (analytics.view)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import page, paginate
from threadline.surveys.queries import list_responses
from threadline.surveys.schemas import SurveyResponsePage, SurveyResponseQuery

router = Router(tags=["surveys"])


@router.get("/responses", response=responses(SurveyResponsePage), summary="List survey answers")
def survey_responses(request: HttpRequest, query: Query[SurveyResponseQuery]) -> dict[str, Any]:
    """Newest first; pass `next_cursor` as `cursor` for older answers."""
    rows, cursor = paginate(list_responses(actor(request), kind=query.kind.value if query.kind else None,
                                           conversation_id=query.conversation_id),
                            cursor=query.cursor, limit=query.limit)
    return page(rows, cursor)
