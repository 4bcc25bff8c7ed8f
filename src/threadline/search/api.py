"""/api/v1/search: the workspace's conversations, messages and contacts, ranked, with highlighted snippets.

Every agent may search (conversations.view). Offset paging, at most 500 results deep (`invalid_offset`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.core.errors import ValidationFailed
from threadline.search.results import api_page
from threadline.search.schemas import MAX_DEPTH, SearchPage, SearchQuery

router = Router(tags=["search"])


@router.get("", response=responses(SearchPage), summary="Search conversations, messages and contacts")
def search(request: HttpRequest, query: Query[SearchQuery]) -> dict[str, Any]:
    """Ranked across kinds (a subject or a name above a message's body), in the token's workspace only."""
    if query.offset + query.limit > MAX_DEPTH:
        raise ValidationFailed(_("Results go %(n)d deep at most: narrow the search.") % {"n": MAX_DEPTH},
                               code="invalid_offset", field="offset")
    return api_page(actor(request), query.q, kind=query.kind, limit=query.limit, offset=query.offset)
