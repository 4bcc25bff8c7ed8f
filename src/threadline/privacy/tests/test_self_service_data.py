"""A data-subject request reaches the domains added after it was written: survey answers and comments, the
bot's sessions (an external platform's session with them), portal sign-ins and sessions, article feedback
(theirs, and an anonymous comment the help center forwarded as their request with their email), the portal's
pseudo-contact of their address. The export holds them (secrets' digests and encrypted sessions left out), the
erasure removes them and nobody else's."""

from __future__ import annotations

import io
import json
import zipfile

from django.db import transaction

from threadline.bot.models import BotSession
from threadline.contacts.models import Contact
from threadline.conversations.models import Message
from threadline.knowledge.actions import do_record_feedback
from threadline.knowledge.models import ArticleFeedback, ArticleTranslation
from threadline.portal.models import PortalSession, SignInLink
from threadline.privacy.erasure import do_erase_contact
from threadline.privacy.export import write_archive
from threadline.privacy.tests.builders import (
    BOT_STATE,
    BOT_TURN,
    EMAIL,
    FEEDBACK_COMMENT,
    SURVEY_COMMENT,
    UNIQUE,
    add_self_service,
    make_person,
    rows_mentioning,
    write_in,
)
from threadline.surveys.models import SurveyRequest, SurveyResponse
from threadline.testing import factories


def seeded(admin, receiver):  # noqa: ANN001, ANN201
    channel = factories.make_api_channel(admin, webhook_url=receiver.url)
    person = make_person(admin, channel, receiver.url)
    add_self_service(admin, channel, person)
    write_in(channel, "other-1", "bystander@example.net", "someone else entirely", name="Bo Bystander")
    with transaction.atomic():  # a stranger's anonymous feedback, never forwarded
        do_record_feedback(ArticleTranslation.objects.get(), helpful=False, comment="Too short")
    return person


def test_the_export_holds_their_self_service_data(admin, receiver):
    person = seeded(admin, receiver)
    out = io.BytesIO()
    write_archive(person.contact, out)
    archive = zipfile.ZipFile(out)
    read = lambda name: json.loads(archive.read(name))  # noqa: E731

    [answer] = read("channels/surveys.SurveyResponse.json")
    assert (answer["kind"], answer["score"], answer["comment"]) == ("csat", 2, f"Slow answer. {SURVEY_COMMENT}")
    assert len(read("channels/surveys.SurveyRequest.json")) == 1
    [session] = read("channels/bot.BotSession.json")
    assert session["mode"] == "external" and session["turns"] == 1 and "external_state_encrypted" not in session
    [feedback] = read("channels/knowledge.ArticleFeedback.json")
    assert feedback["comment"] == FEEDBACK_COMMENT and feedback["contact_id"] is None
    [link] = read("channels/portal.SignInLink.json")
    [portal_session] = read("channels/portal.PortalSession.json")
    assert link["email"] == portal_session["email"] == EMAIL and "digest" not in link and "digest" not in portal_session
    texts = [m["text"] for c in read("conversations.json") for m in c.get("messages", [])]
    assert any(BOT_TURN in t for t in texts)
    assert any(t.startswith(FEEDBACK_COMMENT) for t in texts)  # the forwarded request, on the pseudo-contact
    assert f"portal:{EMAIL}" in {i["address"] for i in read("identities.json")}
    assert "Too short" not in json.dumps([read(n) for n in archive.namelist() if n.endswith(".json")])


def test_erasure_removes_their_self_service_data_and_nobody_elses(admin, receiver,
                                                                  django_capture_on_commit_callbacks):
    person = seeded(admin, receiver)
    pseudo = Contact.objects.get(identities__address=f"portal:{EMAIL}")
    assert pseudo.pk != person.contact.pk
    assert SurveyResponse.objects.get().comment.endswith(SURVEY_COMMENT)
    assert BotSession.objects.get().external_state["conversation_id"] == BOT_STATE
    assert Message.objects.filter(author_kind="bot", text__contains=BOT_TURN).exists()
    assert ArticleFeedback.objects.filter(comment=FEEDBACK_COMMENT, contact=None).exists()
    assert PortalSession.objects.filter(contact=person.contact, email=EMAIL).exists()
    assert SignInLink.objects.filter(contact=person.contact, used_at__isnull=False).exists()
    before = set(rows_mentioning(UNIQUE))
    assert {f"SurveyResponse: {SURVEY_COMMENT}", f"ArticleFeedback: {FEEDBACK_COMMENT}", f"Message: {BOT_TURN}",
            f"PortalSession: {EMAIL}", f"SignInLink: {EMAIL}"} <= before, before

    with transaction.atomic(), django_capture_on_commit_callbacks(execute=True):
        counts = do_erase_contact(person.contact)

    assert rows_mentioning(UNIQUE) == []
    assert not Contact.objects.filter(pk=pseudo.pk).exists()
    assert not (SurveyRequest.objects.exists() or SurveyResponse.objects.exists() or BotSession.objects.exists())
    assert not (PortalSession.objects.exists() or SignInLink.objects.exists())
    assert counts["surveys.SurveyResponse"] == counts["surveys.SurveyRequest"] == 1
    assert counts["bot.BotSession"] == counts["portal.PortalSession"] == counts["knowledge.ArticleFeedback"] == 1
    assert counts["contacts"] == 3  # the contact, the one merged into it, the pseudo-contact of their address
    assert list(ArticleFeedback.objects.values_list("comment", flat=True)) == ["Too short"]
    assert Message.objects.filter(text="someone else entirely").exists()
