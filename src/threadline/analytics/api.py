"""/api/v1/analytics: every metric with the filters, per-day series and the raw conversation facts (cursor
paged), each as JSON or as a CSV attachment (`format=csv`), for members holding analytics.view."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router

from threadline.analytics import metrics
from threadline.analytics.export import csv_lines
from threadline.analytics.metrics import Filters
from threadline.analytics.queries import FACT_COLUMNS, access_filters, fact_row, metric_value
from threadline.analytics.schemas import (
    FactQuery,
    FilterQuery,
    Format,
    MetricName,
    MetricOut,
    MetricQuery,
    RowsOut,
)
from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import page, paginate
from threadline.core.time import now

router = Router(tags=["analytics"])
EXPORT_LIMIT = 1_000_000


def _csv(name: str, rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(rows, columns), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}-{now().strftime("%Y%m%d-%H%M%S")}.csv"'
    return response


def _filters_out(f: Filters) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dataclasses.asdict(f).items()
            if k != "workspace_id" and v is not None}


@router.get("/metrics/{metric}", response=responses(MetricOut), summary="One metric, filtered")
def metric(request: HttpRequest, metric: MetricName, query: Query[MetricQuery]) -> Any:
    f = access_filters(actor(request), query)
    value = metric_value(metric, f, query)
    if query.format == Format.CSV:
        return _csv(metric.value, value if isinstance(value, list) else [value])
    return {"metric": metric.value, "filters": _filters_out(f), "value": value}


@router.get("/series/channels", response=responses(RowsOut), summary="Per day and channel: new conversations, "
                                                                       "inbound, outbound, unique contacts")
def channel_series(request: HttpRequest, query: Query[FilterQuery]) -> Any:
    rows = metrics.channel_days(access_filters(actor(request), query))
    return _csv("channel-days", rows) if query.format == Format.CSV else {"items": rows}


@router.get("/series/agents", response=responses(RowsOut), summary="Per day and agent: handled, replies, "
                                                                     "first responses, resolutions")
def agent_series(request: HttpRequest, query: Query[FilterQuery]) -> Any:
    rows = metrics.agent_days(access_filters(actor(request), query))
    return _csv("agent-days", rows) if query.format == Format.CSV else {"items": rows}


@router.get("/conversations", response=responses(RowsOut), summary="The conversation facts, cursor paged")
def conversation_facts(request: HttpRequest, query: Query[FactQuery]) -> Any:
    """Oldest first by conversation id; pass `next_cursor` as `cursor`. `format=csv` streams every row."""
    facts = metrics.facts(access_filters(actor(request), query))
    if query.format == Format.CSV:
        rows = (fact_row(fact) for fact in facts.order_by("pk")[:EXPORT_LIMIT].iterator(chunk_size=2000))
        return _csv("conversation-facts", rows, FACT_COLUMNS)
    rows, cursor = paginate(facts, cursor=query.cursor, limit=query.limit, descending=False)
    return page([fact_row(fact) for fact in rows], cursor)
