"""`one`: the row of a query that matches at most one row, without the ORDER BY that `.first()` adds.

On the worker's hot path (ADR 0005) building a query costs far more than SQLite answering it; `.first()`
orders by the primary key (or the model's default ordering), which the compiler resolves column by column
for nothing when the filter names one row (a primary or unique key).
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import QuerySet

T = TypeVar("T")


def one(queryset: QuerySet[T]) -> T | None:  # type: ignore[type-var]
    """The only row of `queryset` (filtered on a primary or unique key), or None."""
    rows = list(queryset.order_by()[:1])
    return rows[0] if rows else None
