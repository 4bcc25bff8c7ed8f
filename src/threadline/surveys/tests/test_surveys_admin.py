"""The surveys screen (/app/admin/surveys): admins switch a kind on with its throttle, channels and wording per
language (the survey then speaks that wording); a bad throttle or channel kind is refused; agents cannot open
it; each workspace sees only its own surveys."""

from __future__ import annotations

import pytest

from threadline.surveys.models import Survey
from threadline.surveys.wording import question
from threadline.testing import factories
from threadline.web.tests.admin_helpers import signed_in

pytestmark = pytest.mark.django_db
URL = "/app/admin/surveys"


def test_admin_saves_a_survey_and_bad_values_are_refused(client, admin):
    signed_in(client, admin)
    page = client.get(URL).content.decode()
    assert 'id="survey-csat"' in page and 'id="survey-nps"' in page and "How satisfied are you" in page
    saved = client.post(URL, {"kind": "nps", "enabled": "on", "throttle_days": "90",
                              "channel_kinds": ["whatsapp", "email"], "wording_he": "האם תמליצו עלינו?",
                              "wording_en": ""})
    assert saved.status_code == 302
    survey = Survey.objects.get(workspace_id=admin.workspace_id)
    assert (survey.kind, survey.enabled, survey.throttle_days, survey.channel_kinds, survey.wording) == (
        "nps", True, 90, ["email", "whatsapp"], {"he": "האם תמליצו עלינו?"})
    assert question(survey, "he") == "האם תמליצו עלינו?" and question(survey, "en").startswith("How likely")
    assert client.post(URL, {"kind": "nps", "throttle_days": "-1"}).status_code == 400
    assert client.post(URL, {"kind": "nps", "throttle_days": "x"}).status_code == 400
    assert client.post(URL, {"kind": "nps", "channel_kinds": ["fax"]}).status_code == 400
    assert client.post(URL, {"kind": "abc"}).status_code == 400
    assert Survey.objects.get().throttle_days == 90  # refused changes left it alone


def test_agents_cannot_open_it_and_workspaces_are_apart(client, admin):
    other = factories.make_workspace(name="Other Co")
    signed_in(client, other)
    assert client.post(URL, {"kind": "csat", "enabled": "on"}).status_code == 302
    signed_in(client, admin)
    assert 'svc-badge on' not in client.get(URL).content.decode()  # the other workspace's survey is not ours
    agent = factories.make_agent(admin, "agent@example.com")
    signed_in(client, agent)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"kind": "csat", "enabled": "on"}).status_code == 403
    assert Survey.objects.get().workspace_id == other.workspace_id


def test_admin_sets_quiet_hours_the_nps_schedule_and_the_whatsapp_template(client, admin):
    import datetime as dt

    from threadline.surveys.models import SurveySettings

    signed_in(client, admin)
    assert client.post(URL, {"form": "quiet", "quiet_start": "21:00", "quiet_end": "08:00"}).status_code == 302
    hours = SurveySettings.objects.get(workspace_id=admin.workspace_id)
    assert (hours.quiet_start, hours.quiet_end) == (dt.time(21, 0), dt.time(8, 0))
    assert client.post(URL, {"form": "quiet", "quiet_start": "21:00", "quiet_end": ""}).status_code == 400
    assert client.post(URL, {"form": "quiet", "quiet_start": "late", "quiet_end": "08:00"}).status_code == 400
    saved = client.post(URL, {"kind": "nps", "enabled": "on", "throttle_days": "30", "schedule_days": "90",
                              "template_name": "nps_check", "template_language": "en_US",
                              "template_scores": "10, 5, 0"})
    assert saved.status_code == 302
    survey = Survey.objects.get(kind="nps")
    assert (survey.schedule_days, survey.whatsapp_template) == (
        90, {"name": "nps_check", "language": "en_US", "scores": [10, 5, 0]})
    page = client.get(URL).content.decode()
    assert 'value="21:00"' in page and 'value="10, 5, 0"' in page and 'name="schedule_days"' in page
    assert client.post(URL, {"kind": "csat", "schedule_days": "90"}).status_code == 400  # NPS only
    assert client.post(URL, {"kind": "csat", "template_name": "x", "template_scores": "9"}).status_code == 400
    assert client.post(URL, {"form": "quiet", "quiet_start": "", "quiet_end": ""}).status_code == 302
    assert SurveySettings.objects.get().quiet_start is None
