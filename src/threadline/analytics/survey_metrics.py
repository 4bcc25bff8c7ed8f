"""Survey figures of the conversations the filters select: CSAT %, NPS, CES average and response rate per kind
(docs/analytics.md, Surveys). Read from the day and month rollups like the other metrics when the filters name
at most one dimension, else from the conversation facts' `surveys` column; both hold, per kind, the requests
actually sent (one held by quiet hours is not, until it goes) and the answers per score."""

from __future__ import annotations

from collections import Counter
from typing import Any

from threadline.analytics import rollups
from threadline.analytics.metrics import Filters, facts, rate
from threadline.surveys.models import ORDER, Kind


def _totals(f: Filters) -> dict[str, tuple[int, Counter[int]]]:
    found = rollups.merged(f, "surveys")
    parts: list[dict[str, Any]]
    if found is not None:
        parts = [value for _day, value in found if value]
        scores_of = lambda figures: {int(k): n for k, n in figures["scores"].items()}  # noqa: E731
    else:
        parts = [value for value in facts(f).exclude(surveys={}).values_list("surveys", flat=True).iterator(
            chunk_size=2000) if value]
        scores_of = lambda figures: Counter(figures["scores"])  # noqa: E731
    totals: dict[str, tuple[int, Counter[int]]] = {}
    for part in parts:
        for kind, figures in part.items():
            sent, scores = totals.get(kind, (0, Counter()))
            scores.update(scores_of(figures))
            totals[kind] = (sent + figures["sent"], scores)
    return totals


def surveys(f: Filters) -> dict[str, Any]:
    totals = _totals(f)
    out: dict[str, Any] = {}
    for kind in ORDER:
        sent, scores = totals.get(kind, (0, Counter()))
        n = sum(scores.values())
        figure: dict[str, Any] = {"sent": sent, "responses": n, "response_rate": rate(n, sent)}
        if kind == Kind.CSAT:
            satisfied = sum(count for score, count in scores.items() if score >= 4)
            figure.update(satisfied=satisfied, csat=rate(satisfied, n))
        elif kind == Kind.NPS:
            promoters = sum(count for score, count in scores.items() if score >= 9)
            detractors = sum(count for score, count in scores.items() if score <= 6)
            figure.update(promoters=promoters, detractors=detractors,
                          nps=round(100 * (promoters - detractors) / n, 1) if n else None)
        else:
            figure.update(average=round(sum(score * count for score, count in scores.items()) / n, 2) if n else None)
        out[kind] = figure
    return out
