"""/api/v1/audit: the workspace's audit log for admins, keyset-paged, and its export as CSV or JSON Lines."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import page, paginate
from threadline.audit.queries import export_lines, list_entries
from threadline.audit.schemas import AuditExportQuery, AuditFilter, AuditPage, AuditQuery
from threadline.core.time import now

router = Router(tags=["audit"])


def _entries(request: HttpRequest, query: AuditFilter) -> Any:
    return list_entries(actor(request), action=query.action, actor_filter=query.actor, since=query.since,
                        until=query.until)


@router.get("", response=responses(AuditPage), summary="List audit entries (admins)")
def audit(request: HttpRequest, query: Query[AuditQuery]) -> dict[str, Any]:
    """Newest first; pass `next_cursor` as `cursor` for older entries."""
    rows, cursor = paginate(_entries(request, query), cursor=query.cursor, limit=query.limit)
    return page(rows, cursor)


@router.get("/export", response=responses(None), summary="Export audit entries as CSV or JSON Lines (admins)")
def audit_export(request: HttpRequest, query: Query[AuditExportQuery]) -> StreamingHttpResponse:
    entries = _entries(request, query)
    fmt = query.format.value
    response = StreamingHttpResponse(export_lines(entries, fmt),
                                     content_type="text/csv" if fmt == "csv" else "application/x-ndjson")
    stamp = now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{"csv" if fmt == "csv" else "jsonl"}"'
    return response
