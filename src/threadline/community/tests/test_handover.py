"""An agent's hand-offs from the forum: a customer's post continues as a private conversation on the author's
contact (the portal's submission, processed by the worker), and an accepted answer becomes a draft article."""

from __future__ import annotations

import pytest
from django.test import Client

from threadline.community.models import Post, Topic
from threadline.community.testkit import agent_client, make_forum, reply, sign_in, start_topic
from threadline.conversations.models import Message
from threadline.knowledge.models import ArticleTranslation
from threadline.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def question(client, admin):
    forum, category = make_forum(admin)
    member = sign_in(client, forum, "rina@example.com", "Rina")
    member.trusted = True
    member.save()
    topic_id = start_topic(client, forum, category, "My order 4471 never arrived",
                           "Order 4471, paid by card ending 0042. Where is it?")
    return forum, topic_id, member, client


def test_move_to_private_continues_the_post_on_the_authors_contact_timeline(question, admin, run_jobs):
    forum, topic_id, member, _client = question
    post = Post.objects.get(topic_id=topic_id)
    agent = agent_client(admin)
    assert agent.post(f"/app/community/posts/{post.pk}/private").status_code == 302
    run_jobs()
    message = Message.objects.get(channel__kind="portal")
    assert message.conversation.contact_id == member.contact_id  # one contact, one timeline
    assert "Order 4471" in message.text and message.conversation.subject == "My order 4471 never arrived"
    assert Client().get(f"/community/{forum.slug}/t/{topic_id}/").status_code == 404  # out of the public forum
    assert f"/app/c/{message.conversation_id}/" in agent.get("/app/community").content.decode()
    again = agent.post(f"/app/community/posts/{post.pk}/private", HTTP_ACCEPT="application/json")
    assert again.status_code == 409


def test_an_agents_own_post_cannot_move_to_private(question, admin):
    forum, topic_id, _member, _client = question
    agent = agent_client(admin)
    post_id = reply(agent, forum, topic_id, "We are looking into it.")["post_id"]
    assert agent.post(f"/app/community/posts/{post_id}/private").status_code == 400


def test_an_accepted_answer_is_promoted_to_a_draft_article(question, admin):
    forum, topic_id, _member, author = question
    agent = agent_client(admin)
    assert agent.post(f"/app/community/topics/{topic_id}/promote").status_code == 400  # nothing accepted yet
    answer = reply(agent, forum, topic_id, "Parcels to Eilat take **5 days**; track them under *Orders*.")["post_id"]
    author.post(f"/community/{forum.slug}/t/{topic_id}/accept", {"post": answer})
    assert Topic.objects.get(pk=topic_id).accepted_answer_id == answer
    assert agent.post(f"/app/community/topics/{topic_id}/promote").status_code == 302
    draft = ArticleTranslation.objects.get(workspace=admin.workspace)
    assert (draft.state, draft.title) == ("draft", "My order 4471 never arrived")
    assert "5 days" in draft.body_source
    light = factories.make_agent(admin, "lia@example.com", role="light_agent")
    assert agent_client(light).post(f"/app/community/topics/{topic_id}/promote").status_code == 403
