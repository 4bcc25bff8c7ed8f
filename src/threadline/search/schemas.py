"""Request and response shapes of GET /api/v1/search."""

from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import Field

MAX_DEPTH = 500  # offset + limit: deeper pages are refused (narrow the query instead)
MAX_LIMIT = 50


class SearchQuery(Schema):
    q: str = Field(min_length=1, max_length=200, description="Words to find (any language; the last word also "
                                                              "matches as a prefix; close spellings when nothing "
                                                              "matches exactly)")
    kind: Literal["conversation", "message", "contact"] | None = Field(
        None, description="Only this kind of document (default: all three, ranked together)")
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="Results per page")
    offset: int = Field(0, ge=0, le=MAX_DEPTH, description="Results to skip (the previous page's `next_offset`)")


class SnippetPart(Schema):
    text: str
    match: bool = Field(description="Whether this part is a word the query matched (to highlight)")


class SearchHit(Schema):
    kind: str
    id: int
    score: float = Field(description="Relevance, higher first (titles weigh more than bodies)")
    conversation_id: int | None = Field(description="The conversation a message or conversation belongs to")
    title: str = Field(description="A conversation's subject, a contact's name, a message's conversation subject")
    internal: bool = Field(description="An agents' internal note")
    snippet: list[SnippetPart] = Field(description="The matched text around the first match, cut with '…'")


class SearchPage(Schema):
    items: list[SearchHit]
    next_offset: int | None = Field(description="The offset of the next page; null on the last one")
    corrected: bool = Field(description="Nothing matched exactly: these results match close spellings")
