"""A contact's survey answers are theirs: the data-subject export carries them (scores and comments), and
erasing the contact removes the requests, the answers and the comments' text from the database."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.db import connection, transaction

from threadline.channels.sms.tests.helpers import make_twilio_channel, twilio_post
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation
from threadline.privacy.erasure import do_erase_contact
from threadline.privacy.export import write_archive
from threadline.surveys.actions import do_add_comment
from threadline.surveys.models import SurveyRequest, SurveyResponse
from threadline.surveys.tests.helpers import enable_survey, sms, solve

pytestmark = pytest.mark.django_db
COMMENT = "The courier Quillfeather left it at the wrong door"


def test_export_carries_the_answers_and_erasure_removes_them(client, admin, run_jobs, twilio):
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    enable_survey(admin, "csat")
    twilio_post(client, channel, sms(1, "Where is my parcel?"))
    run_jobs()
    solve(admin, Conversation.objects.get())
    run_jobs()
    twilio_post(client, channel, sms(2, "2"))
    run_jobs()
    with transaction.atomic():
        do_add_comment(SurveyResponse.objects.get(), COMMENT)
    contact = Contact.objects.get()

    out = io.BytesIO()
    write_archive(contact, out)
    archive = zipfile.ZipFile(out)
    [answer] = json.loads(archive.read("channels/surveys.SurveyResponse.json"))
    assert (answer["score"], answer["comment"], answer["kind"]) == (2, COMMENT, "csat")
    assert len(json.loads(archive.read("channels/surveys.SurveyRequest.json"))) == 1

    with transaction.atomic():
        do_erase_contact(contact)
    assert not SurveyResponse.objects.exists() and not SurveyRequest.objects.exists()
    with connection.cursor() as cursor:
        for table in (SurveyResponse._meta.db_table, SurveyRequest._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table names
            assert COMMENT not in repr(cursor.fetchall())
