"""The email survey through the real SMTP path: one signed link per score; GET only shows a confirm button (a
link scanner votes for nothing), POST records the score and offers the comment page; a used link, another
score's link after the answer, or a tampered link is refused; the comment is kept once."""

from __future__ import annotations

import re

import pytest
from tests.test_email_threading import inbound

from threadline.channels.email.testkit import make_email_channel, running_sink
from threadline.conversations.models import Status
from threadline.surveys.models import SurveyResponse
from threadline.surveys.tests.helpers import enable_survey, solve

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_sink():
    yield from running_sink()


def test_email_rating_link_get_confirms_post_records_and_a_replay_is_refused(client, admin, run_jobs, smtp_sink,
                                                                            settings):
    settings.PUBLIC_URL = "https://help.example.com"
    channel = make_email_channel(admin, relay_url=smtp_sink.url, display_name="Acme Support")
    enable_survey(admin, "ces")
    first = inbound(channel, run_jobs, subject="Login", body="I cannot sign in.")
    conversation = first.conversation
    solve(admin, conversation)
    run_jobs()
    mail = smtp_sink.handler.received[-1].message
    text = mail.get_body(("plain",)).get_content()
    found = dict(re.findall(r"^(\d): (https://help\.example\.com/surveys/rate/\S+/)\r?$", text, re.M))
    assert sorted(found, key=int) == [str(n) for n in range(1, 8)]  # CES: 1 to 7
    assert found["6"] in mail.get_body(("html",)).get_content()
    path = found["6"].removeprefix("https://help.example.com")

    scanned = client.get(path)  # what a mail scanner's GET does: nothing recorded
    assert scanned.status_code == 200 and b"Send my score" in scanned.content
    assert not SurveyResponse.objects.exists()
    recorded = client.post(path)
    assert recorded.status_code == 200 and b"Thank you for your feedback." in recorded.content
    response = SurveyResponse.objects.get()
    assert (response.kind, response.score, response.channel_id) == ("ces", 6, channel.pk)
    conversation.refresh_from_db()
    assert conversation.status == Status.SOLVED

    assert client.post(path).status_code == 409  # the same link again
    other = found["2"].removeprefix("https://help.example.com")
    assert client.get(other).status_code == 409 and client.post(other).status_code == 409
    assert SurveyResponse.objects.get().score == 6
    assert client.post(path[:-6] + "xxxxx/").status_code == 404  # tampered

    comment_path = re.search(rb'action="(/surveys/comment/[^"]+/)"', recorded.content).group(1).decode()
    assert client.post(comment_path, {"comment": "Quick and kind."}).status_code == 200
    assert SurveyResponse.objects.get().comment == "Quick and kind."
    assert client.post(comment_path, {"comment": "Again"}).status_code == 400
    assert SurveyResponse.objects.get().comment == "Quick and kind."
