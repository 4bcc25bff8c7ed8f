"""Votes (one per member per post), accepted answers (shown on top), follow mails that reach a real SMTP server
with a signed unsubscribe link, and search with the search engine."""

from __future__ import annotations

import pytest
from django.test import Client

from threadline.community.models import Follow, Post, Topic, Vote
from threadline.community.testkit import agent_client, make_forum, reply, sign_in, start_topic
from threadline.testing.mailbox import wait_for_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(client, admin):
    """A public topic by Dana with a reply by Eli (both trusted), and Dana's and Eli's clients."""
    forum, category = make_forum(admin)
    dana, eli = client, Client()
    for who, email in ((dana, "dana@example.com"), (eli, "eli@example.com")):
        member = sign_in(who, forum, email, email.split("@")[0].title())
        member.trusted = True
        member.save()
    topic_id = start_topic(dana, forum, category, "Export invoices as PDF?", "Where is the PDF export?")
    answer = reply(eli, forum, topic_id, "Open **Invoices** and press Export.")["post_id"]
    return forum, topic_id, answer, dana, eli


def _vote(client, forum, post_id, value):
    response = client.post(f"/community/{forum.slug}/p/{post_id}/vote", {"value": value},
                           HTTP_ACCEPT="application/json")
    return response.status_code, response.json()


def test_a_member_votes_once_per_post(thread):
    forum, _topic_id, answer, dana, eli = thread
    assert _vote(dana, forum, answer, "up") == (200, {"ok": True, "score": 1})
    assert _vote(dana, forum, answer, "down") == (200, {"ok": True, "score": -1})  # changed, not added
    assert _vote(dana, forum, answer, "down") == (200, {"ok": True, "score": 0})  # taken back
    assert _vote(dana, forum, answer, "up")[1]["score"] == 1
    assert Vote.objects.filter(post_id=answer).count() == 1
    status, body = _vote(eli, forum, answer, "up")
    assert (status, body["code"]) == (409, "own_post")
    assert _vote(Client(), forum, answer, "up")[0] == 403
    assert _vote(dana, forum, answer, "sideways")[0] == 400


def test_the_author_accepts_an_answer_which_shows_on_top_and_is_mailed(thread, system_mail, run_jobs):
    forum, topic_id, answer, dana, eli = thread
    refused = eli.post(f"/community/{forum.slug}/t/{topic_id}/accept", {"post": answer}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 403
    assert dana.post(f"/community/{forum.slug}/t/{topic_id}/accept", {"post": answer}).status_code == 302
    assert Topic.objects.get(pk=topic_id).accepted_answer_id == answer
    page = Client().get(f"/community/{forum.slug}/t/{topic_id}/").content.decode()
    assert page.index(f'id="post-{answer}-top"') < page.index(f'id="post-{answer}"')
    run_jobs()
    mails = wait_for_mail(system_mail, 3)  # the reply to Dana, then the acceptance to both
    accepted = [m for m in mails if "Answer accepted" in m.message["Subject"]]
    assert sorted(m.rcpt_tos[0] for m in accepted) == ["dana@example.com", "eli@example.com"]
    first_post = Post.objects.filter(topic_id=topic_id).order_by("id").first()
    wrong = dana.post(f"/community/{forum.slug}/t/{topic_id}/accept", {"post": first_post.pk},
                      HTTP_ACCEPT="application/json")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_answer")


def test_followers_get_replies_by_mail_and_unsubscribe_with_the_signed_link(thread, system_mail, run_jobs):
    forum, topic_id, _answer, dana, eli = thread
    run_jobs()
    (mail,) = wait_for_mail(system_mail, 1)
    assert mail.rcpt_tos == ["dana@example.com"] and "Export invoices as PDF?" in mail.message["Subject"]
    body = mail.message.get_body(preferencelist=("plain",)).get_content()
    assert f"/community/{forum.slug}/t/{topic_id}/" in body
    unsubscribe = body.split("/community/unsubscribe/")[1].split()[0]
    assert Client().get(f"/community/unsubscribe/{unsubscribe}x").status_code == 404  # tampered
    assert Client().post(f"/community/unsubscribe/{unsubscribe}").status_code == 200
    assert not Follow.objects.filter(topic_id=topic_id, member__email="dana@example.com").exists()
    reply(eli, forum, topic_id, "One more hint: the button is on the right.")
    run_jobs()
    assert len(system_mail.handler.received) == 1  # nothing more for Dana


def test_the_forum_search_finds_public_topics_in_any_language_and_never_hidden_ones(client, admin):
    forum, category = make_forum(admin)
    member = sign_in(client, forum, "noa@example.com")
    member.trusted = True
    member.save()
    hebrew = start_topic(client, forum, category, "החשבונית לא הגיעה", "שילמתי אתמול והחשבונית לא הגיעה במייל")
    thai = start_topic(client, forum, category, "ใบแจ้งหนี้", "ฉันไม่ได้รับใบแจ้งหนี้ทางอีเมล")
    hidden = start_topic(client, forum, category, "Secret invoice topic", "Invoice secrets")
    agent_client(admin).post(f"/app/community/topics/{hidden}/hide")

    def found(q):
        page = Client().get(f"/community/{forum.slug}/search", {"q": q}).content.decode()
        return {t for t in (hebrew, thai, hidden) if f"/t/{t}/" in page}

    assert found("חשבונית") == {hebrew}
    assert found("ใบแจ้งหนี้") == {thai}
    assert found("invoice") == set()
    assert found("שילמתי") == {hebrew}  # a word of the body
    assert found("חשבונת") == {hebrew}  # a typo


def test_search_rebuild_indexes_topics_and_drops_hidden_ones(thread, admin):
    from threadline.community.search import KIND, search_topic_ids
    from threadline.search.models import SearchDocument
    from threadline.search.rebuild import rebuild

    _forum, topic_id, _answer, _dana, _eli = thread
    SearchDocument.objects.filter(kind=KIND).delete()
    assert search_topic_ids(admin.workspace_id, "invoices", limit=5) == []
    counts = rebuild(admin.workspace)
    assert counts[KIND] == 1
    assert search_topic_ids(admin.workspace_id, "invoices", limit=5) == [topic_id]
    Topic.objects.filter(pk=topic_id).update(state="hidden")  # changed without the action: the rebuild fixes it
    rebuild(admin.workspace, restart=True)
    assert search_topic_ids(admin.workspace_id, "invoices", limit=5) == []
