"""Redacting a message after the fact reaches the copies the self-service domains keep: the bot's turn that
echoed the customer and the external platform's session, the timeline entry of the bot's hand-over, a survey
comment on the conversation, and an article's feedback comment the help center forwarded as the message; the
search index forgets the text."""

from __future__ import annotations

from django.db import transaction

from threadline.bot.actions import do_apply_external_turn
from threadline.bot.models import BotSession, Mode
from threadline.bot.tests.helpers import publish_article
from threadline.botplatforms.base import BotTurn
from threadline.conversations.models import ConversationEvent, Message
from threadline.knowledge.actions import do_record_feedback
from threadline.knowledge.models import ArticleFeedback
from threadline.portal.actions import do_submit_request
from threadline.privacy.tests.builders import rows_mentioning
from threadline.redaction.tests.test_redact_api import SECRET, api_message, redact
from threadline.search.queries import AGENT_KINDS, AGENT_VISIBILITIES, find
from threadline.surveys.actions import do_add_comment, do_record_answer, do_save_survey
from threadline.surveys.models import SurveyRequest, SurveyResponse

WORD = "Quokka"


def hits(workspace_id: int) -> int:
    return len(find(workspace_id, WORD, kinds=AGENT_KINDS, visibilities=AGENT_VISIBILITIES, limit=10).hits)


def test_redacting_text_reaches_the_bot_survey_and_timeline_copies(client, admin, run_jobs):
    message = api_message(client, admin, run_jobs)
    conversation = message.conversation
    with transaction.atomic():
        session = BotSession.objects.create(workspace=admin.workspace, conversation=conversation,
                                            channel=message.channel, mode=Mode.EXTERNAL)
    with transaction.atomic():
        do_apply_external_turn(session.pk, {"language": "en"}, BotTurn(
            messages=[f"You wrote: {SECRET}"], choices=[], handoff=True, handoff_reason=f"slot code={SECRET}",
            raw={}, state={"conversation_id": "dl-1", "slots": {"code": SECRET}}))
        survey = do_save_survey(admin, "csat", enabled=True)
        request = SurveyRequest.objects.create(workspace=admin.workspace, survey=survey, kind="csat",
                                               conversation=conversation, contact=conversation.contact)
        do_add_comment(do_record_answer(request, 4, channel_id=None), f"As I said, {SECRET}")
    run_jobs()
    assert len(rows_mentioning([SECRET])) >= 4 and hits(admin.workspace_id) >= 2
    assert SECRET in str(BotSession.objects.get().external_state)

    answer = redact(client, admin, message.pk, {"text": SECRET})
    assert answer.status_code == 200, answer.content
    assert answer.json()["copies"]["other_copies"] == 4  # the bot's turn, its session, the timeline, the survey
    run_jobs()
    assert rows_mentioning([SECRET]) == []
    assert SECRET not in str(BotSession.objects.get().external_state)
    assert BotSession.objects.get().external_state["slots"] == {"code": "[redacted]"}
    assert Message.objects.get(conversation=conversation, author_kind="bot").text == "You wrote: [redacted]"
    assert SurveyResponse.objects.get().comment == "As I said, [redacted]"
    assert ConversationEvent.objects.get(conversation=conversation, kind="bot_handed_over").data["detail"] == \
        "slot code=[redacted]"
    assert hits(admin.workspace_id) == 0


def test_redacting_a_forwarded_feedback_request_reaches_the_feedback_comment(client, admin, run_jobs):
    translation = publish_article(admin, "en", "Returns", "How to return an order")
    comment = f"Not helpful, my code is {SECRET}"
    with transaction.atomic():
        do_record_feedback(translation, helpful=False, comment=comment)
        do_record_feedback(translation, helpful=False, comment="Unrelated")
        do_submit_request(workspace=admin.workspace, email="d@example.com", source="article_feedback",
                          subject="Feedback on “Returns”", text=f"{comment}\n\nhttps://help.example/a/1")
    run_jobs()
    message = Message.objects.get(text__startswith=comment)

    assert redact(client, admin, message.pk, {"text": SECRET}).status_code == 200
    assert sorted(ArticleFeedback.objects.values_list("comment", flat=True)) == [
        "Not helpful, my code is [redacted]", "Unrelated"]
    assert rows_mentioning([SECRET]) == []


def test_redacting_a_post_moved_to_private_reaches_the_hidden_post_and_its_topic(client, admin, run_jobs):
    from threadline.community.models import Post, Topic
    from threadline.community.search import search_topic_ids
    from threadline.community.testkit import agent_client, make_forum, sign_in, start_topic

    forum, category = make_forum(admin)
    member = sign_in(client, forum, "rina@example.com", "Rina")
    member.trusted = True
    member.save()
    topic_id = start_topic(client, forum, category, f"Locker {SECRET}", f"My locker: **{SECRET}**. Help?")
    post = Post.objects.get(topic_id=topic_id)
    assert agent_client(admin).post(f"/app/community/posts/{post.pk}/private").status_code == 302
    run_jobs()
    message = Message.objects.get(channel__kind="portal")
    assert SECRET in message.text and SECRET in Post.objects.get(pk=post.pk).body_html

    answer = redact(client, admin, message.pk, {"text": SECRET})
    assert answer.status_code == 200 and answer.json()["copies"]["other_copies"] == 2  # the post, its title
    post.refresh_from_db()
    assert SECRET not in post.body and SECRET not in post.body_html and "[redacted]" in post.body
    assert Topic.objects.get(pk=topic_id).title == "Locker [redacted]"
    assert rows_mentioning([SECRET]) == []
    assert search_topic_ids(admin.workspace_id, WORD, limit=5) == []
