"""Answers through SMS in two workspaces: the analytics figures (CSAT %, NPS, CES average, response rate)
against values worked out here by hand, and GET /api/v1/surveys/responses: cursor paged, one workspace's
answers only, another workspace's conversation a 404, analytics.view required."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.analytics.refresh import refresh_stale
from threadline.channels.sms.tests.helpers import make_twilio_channel, twilio_post
from threadline.conversations.models import Conversation
from threadline.surveys.models import SurveyResponse
from threadline.surveys.tests.helpers import enable_survey, sms, solve
from threadline.testing.factories import make_agent, make_token, make_workspace

pytestmark = pytest.mark.django_db


def survey_round(client, admin, run_jobs, channel, kind: str, scores: list[int | None], start: int) -> None:
    """One customer per score: writes, is solved, gets the `kind` survey and answers (None: never answers)."""
    for kind_ in ("csat", "ces", "nps"):
        if kind_ != kind:
            enable_survey(admin, kind_, enabled=False)
    enable_survey(admin, kind)
    for i, score in enumerate(scores):
        sender = f"+1415555{start + i:04d}"
        twilio_post(client, channel, sms(start * 10 + 2 * i, "Help please", sender))
        run_jobs()
        solve(admin, Conversation.objects.filter(workspace_id=admin.workspace_id).latest("id"))
        run_jobs()
        if score is not None:
            twilio_post(client, channel, sms(start * 10 + 2 * i + 1, str(score), sender))
            run_jobs()


def test_figures_and_the_responses_api_across_two_workspaces(client, admin, run_jobs, twilio):
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    survey_round(client, admin, run_jobs, channel, "csat", [5, 4, 2, 5, None], 100)
    survey_round(client, admin, run_jobs, channel, "nps", [10, 9, 7, 3, 0, None], 200)
    survey_round(client, admin, run_jobs, channel, "ces", [7, 6, 2], 300)
    other = make_workspace("Other Co")
    other_channel = make_twilio_channel(other, api_base_url=twilio.url, from_number="+15017122662")
    survey_round(client, other, run_jobs, other_channel, "csat", [1, 1], 400)
    assert SurveyResponse.objects.filter(workspace_id=admin.workspace_id).count() == 12

    refresh_stale()  # the facts' refresh task (every minute in production)
    api = {"HTTP_AUTHORIZATION": f"Bearer {make_token(admin)}"}
    value = client.get("/api/v1/analytics/metrics/surveys", **api).json()["value"]
    assert value["csat"] == {"sent": 5, "responses": 4, "response_rate": 0.8, "satisfied": 3, "csat": 0.75}
    # NPS: promoters 10, 9 (2); detractors 3, 0 (2); passive 7: (2 - 2) / 5
    assert value["nps"] == {"sent": 6, "responses": 5, "response_rate": round(5 / 6, 4), "promoters": 2,
                            "detractors": 2, "nps": 0.0}
    assert value["ces"] == {"sent": 3, "responses": 3, "response_rate": 1.0, "average": 5.0}

    first = client.get("/api/v1/surveys/responses?limit=5", **api).json()
    assert len(first["items"]) == 5 and first["next_cursor"]
    seen = [r["id"] for r in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/surveys/responses?limit=5&cursor={cursor}", **api).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
    assert seen == list(SurveyResponse.objects.filter(workspace_id=admin.workspace_id)
                        .order_by("-id").values_list("id", flat=True))
    nps = client.get("/api/v1/surveys/responses?kind=nps", **api).json()["items"]
    assert sorted(r["score"] for r in nps) == [0, 3, 7, 9, 10] and {r["kind"] for r in nps} == {"nps"}
    foreign = Conversation.objects.filter(workspace_id=other.workspace_id).first()
    refused = client.get(f"/api/v1/surveys/responses?conversation_id={foreign.pk}", **api)
    assert refused.status_code == 404 and refused.json()["code"] == "conversation_not_found"
    theirs = client.get("/api/v1/surveys/responses", HTTP_AUTHORIZATION=f"Bearer {make_token(other)}").json()
    assert [r["score"] for r in theirs["items"]] == [1, 1]
    agent = make_agent(admin, "agent@example.com")
    assert client.get("/api/v1/surveys/responses",
                      HTTP_AUTHORIZATION=f"Bearer {make_token(agent)}").status_code == 403


def test_response_rate_counts_only_surveys_actually_sent(client, admin, run_jobs, twilio):
    """A survey held by quiet hours is not "sent" until it goes: the response rate is answered / sent. An
    answer that comes with no message (an email link, a call) still reaches the figures (`survey.answered`)."""
    import datetime as dt

    import time_machine

    from threadline.jobs.scheduler import tick
    from threadline.surveys.actions import do_record_answer, do_save_survey_settings
    from threadline.surveys.models import SurveyRequest

    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    api = {"HTTP_AUTHORIZATION": f"Bearer {make_token(admin)}"}

    def csat():
        refresh_stale()
        return client.get("/api/v1/analytics/metrics/surveys", **api).json()["value"]["csat"]

    evening = dt.datetime(2026, 12, 4, 20, 30, tzinfo=dt.UTC)
    with time_machine.travel(evening, tick=False):
        survey_round(client, admin, run_jobs, channel, "csat", [5, None], 500)
        with transaction.atomic():
            do_save_survey_settings(admin, quiet_start=dt.time(20, 0), quiet_end=dt.time(23, 0))
        survey_round(client, admin, run_jobs, channel, "csat", [None], 600)  # held until 23:00
        held = SurveyRequest.objects.get(due_at__isnull=False)
        assert held.message_id is None
        assert csat() == {"sent": 2, "responses": 1, "response_rate": 0.5, "satisfied": 1, "csat": 1.0}
    with time_machine.travel(dt.datetime(2026, 12, 4, 23, 1, tzinfo=dt.UTC), tick=False):
        tick()
        run_jobs()  # the held survey goes: its message marks the conversation's facts
        held.refresh_from_db()
        assert held.due_at is None and held.message_id is not None
        assert csat() == {"sent": 3, "responses": 1, "response_rate": round(1 / 3, 4), "satisfied": 1, "csat": 1.0}
        with transaction.atomic():  # as the email link's POST does: no message, only the event
            do_record_answer(held, 2, channel_id=None)
        run_jobs()
        assert csat() == {"sent": 3, "responses": 2, "response_rate": round(2 / 3, 4), "satisfied": 1, "csat": 0.5}
