"""Survey figures, read from the surveys' own rows (requests and responses) of the conversations the filters
select (`metrics.facts`): CSAT %, NPS, CES average and response rate per kind (docs/analytics.md, Surveys)."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Q

from threadline.analytics.metrics import Filters, facts, rate
from threadline.surveys.models import ORDER, Kind, SurveyRequest, SurveyResponse


def surveys(f: Filters) -> dict[str, Any]:
    selected = facts(f).values("conversation_id")
    sent = dict(SurveyRequest.objects.filter(workspace_id=f.workspace_id, conversation_id__in=selected)
                .values("kind").annotate(n=Count("id")).values_list("kind", "n"))
    answers = SurveyResponse.objects.filter(workspace_id=f.workspace_id, conversation_id__in=selected)
    figures = {row["kind"]: row for row in answers.values("kind").annotate(
        responses=Count("id"), average=Avg("score"), satisfied=Count("id", filter=Q(score__gte=4)),
        promoters=Count("id", filter=Q(score__gte=9)), detractors=Count("id", filter=Q(score__lte=6)))}
    out: dict[str, Any] = {}
    for kind in ORDER:
        row = figures.get(kind) or {"responses": 0, "average": None, "satisfied": 0, "promoters": 0, "detractors": 0}
        n = row["responses"]
        figure: dict[str, Any] = {"sent": sent.get(kind, 0), "responses": n, "response_rate": rate(n, sent.get(kind, 0))}
        if kind == Kind.CSAT:
            figure.update(satisfied=row["satisfied"], csat=rate(row["satisfied"], n))
        elif kind == Kind.NPS:
            figure.update(promoters=row["promoters"], detractors=row["detractors"],
                          nps=round(100 * (row["promoters"] - row["detractors"]) / n, 1) if n else None)
        else:
            figure.update(average=round(row["average"], 2) if n else None)
        out[kind] = figure
    return out
