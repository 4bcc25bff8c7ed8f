"""Building blocks of request shapes shared by every domain's `schemas.py` (the API layer reuses them).

Bounded ids, so a caller's huge number is a 422 and never reaches the database; a strict base for request
bodies; and the paging parameters of every list.
"""

from __future__ import annotations

from typing import Annotated

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field

MAX_ID = 2**63 - 1  # the largest value a 64-bit primary key (SQLite INTEGER, PostgreSQL bigint) holds
MAX_LIMIT = 200
DEFAULT_LIMIT = 50

Id = Annotated[int, Field(ge=1, le=MAX_ID, description="A row id")]


class Input(BaseModel):
    """The base of every request body: a JSON object with only the documented keys.

    (django-ninja's `Schema` reads attributes from any object, so it would take `[]` or `42` for an empty
    body; a plain pydantic model refuses them with a 422.)
    """

    model_config = ConfigDict(extra="forbid")


class PageQuery(Schema):
    """The paging parameters of every list: `cursor` is a previous page's `next_cursor`."""

    cursor: str | None = Field(None, max_length=200, description="The `next_cursor` of the previous page")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page")
