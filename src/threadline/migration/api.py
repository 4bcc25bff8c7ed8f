"""/api/v1/imports: what `threadline import` did in the workspace, read-only (admin.workspace)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import page, paginate
from threadline.migration.models import ImportRun
from threadline.migration.queries import access_run, list_runs, list_skipped
from threadline.migration.schemas import (
    ImportRunOut,
    ImportRunPage,
    ImportRunQuery,
    SkippedPage,
    SkippedQuery,
)

router = Router(tags=["imports"])


@router.get("", response=responses(ImportRunPage), summary="List imports")
def imports(request: HttpRequest, query: Query[ImportRunQuery]) -> dict[str, Any]:
    """Newest first, with each run's counts per stage."""
    rows, cursor = paginate(list_runs(actor(request), source=query.source.value if query.source else None),
                            cursor=query.cursor, limit=query.limit)
    return page(rows, cursor)


@router.get("/{run_id}", response=responses(ImportRunOut), summary="One import")
def import_run(request: HttpRequest, run_id: int) -> ImportRun:
    return access_run(actor(request), run_id)


@router.get("/{run_id}/skipped", response=responses(SkippedPage), summary="What an import skipped, and why")
def import_skipped(request: HttpRequest, run_id: int, query: Query[SkippedQuery]) -> dict[str, Any]:
    rows, cursor = paginate(list_skipped(actor(request), run_id, kind=query.kind), cursor=query.cursor,
                            limit=query.limit, descending=False)
    return page(rows, cursor)
