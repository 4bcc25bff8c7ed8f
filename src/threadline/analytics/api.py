"""/api/v1/analytics: every metric with the filters, per-day series and the raw conversation facts (cursor
paged), each as JSON or as a CSV or XLSX attachment (`format=csv|xlsx`), for members holding analytics.view."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from threadline.analytics import metrics
from threadline.analytics.export import attachment
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

router = Router(tags=["analytics"])
EXPORT_LIMIT = 1_000_000


def _filters_out(f: Filters) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dataclasses.asdict(f).items()
            if k != "workspace_id" and v is not None}


@router.get("/metrics/{metric}", response=responses(MetricOut), summary="One metric, filtered")
def metric(request: HttpRequest, metric: MetricName, query: Query[MetricQuery]) -> Any:
    f = access_filters(actor(request), query)
    value = metric_value(metric, f, query)
    if query.format != Format.JSON:
        return attachment(metric.value, query.format.value, value if isinstance(value, list) else [value])
    return {"metric": metric.value, "filters": _filters_out(f), "value": value}


@router.get("/series/channels", response=responses(RowsOut), summary="Per day and channel: new conversations, "
                                                                       "inbound, outbound, unique contacts")
def channel_series(request: HttpRequest, query: Query[FilterQuery]) -> Any:
    rows = metrics.channel_days(access_filters(actor(request), query))
    return attachment("channel-days", query.format.value, rows) if query.format != Format.JSON else {"items": rows}


@router.get("/series/agents", response=responses(RowsOut), summary="Per day and agent: handled, replies, "
                                                                     "first responses, resolutions, time online, "
                                                                     "occupancy")
def agent_series(request: HttpRequest, query: Query[FilterQuery]) -> Any:
    rows = metrics.agent_days(access_filters(actor(request), query))
    return attachment("agent-days", query.format.value, rows) if query.format != Format.JSON else {"items": rows}


@router.get("/conversations", response=responses(RowsOut), summary="The conversation facts, cursor paged")
def conversation_facts(request: HttpRequest, query: Query[FactQuery]) -> Any:
    """Oldest first by conversation id; pass `next_cursor` as `cursor`. `format=csv` streams every row."""
    facts = metrics.facts(access_filters(actor(request), query))
    if query.format != Format.JSON:
        rows = (fact_row(fact) for fact in facts.order_by("pk")[:EXPORT_LIMIT].iterator(chunk_size=2000))
        return attachment("conversation-facts", query.format.value, rows, FACT_COLUMNS)
    rows, cursor = paginate(facts, cursor=query.cursor, limit=query.limit, descending=False)
    return page([fact_row(fact) for fact in rows], cursor)
