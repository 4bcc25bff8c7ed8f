"""Cursor pagination: stable under inserts and updates, opaque to callers (`next_cursor`).

Pages are ordered by primary key, which never changes: a row updated (or a row inserted) while a caller pages
through a list is never skipped nor repeated. Newest first by default; `descending=False` for oldest first.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from threadline.core.errors import ValidationFailed
from threadline.core.schemas import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT, PageQuery

M = TypeVar("M", bound=Model)
__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "PageQuery", "decode_cursor", "encode_cursor", "page", "paginate"]


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
            raise TypeError
        return value
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ValidationFailed(_("The cursor is not valid."), code="invalid_cursor", field="cursor") from exc


def paginate(queryset: QuerySet[M], *, cursor: str | None, limit: int, descending: bool = True) -> tuple[list[M], str | None]:
    """One page ordered by id (newest first by default) and the cursor for the next one, or None."""
    limit = max(1, min(limit, MAX_LIMIT))
    if cursor:
        after = decode_cursor(cursor)
        queryset = queryset.filter(pk__lt=after) if descending else queryset.filter(pk__gt=after)
    rows = list(queryset.order_by("-pk" if descending else "pk")[: limit + 1])
    next_cursor = encode_cursor(rows[limit - 1].pk) if len(rows) > limit else None
    return rows[:limit], next_cursor


def page(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}
