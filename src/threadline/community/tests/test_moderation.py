"""Moderation at /app/community: reports, hide/unhide, spam (ban), lock, merge, badges, the audit trail; and
two workspaces that never see each other's forums, posts or members."""

from __future__ import annotations

import pytest
from django.test import Client

from threadline.audit.models import AuditEntry
from threadline.community.models import CommunityMember, Post, Report, Topic, TopicState
from threadline.community.testkit import agent_client, make_forum, reply, sign_in, start_topic
from threadline.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def forum_with_topic(client, admin):
    forum, category = make_forum(admin)
    member = sign_in(client, forum, "ori@example.com", "Ori")
    member.trusted = True
    member.save()
    topic_id = start_topic(client, forum, category, "Buy cheap watches", "Visit my shop!!!")
    return forum, category, topic_id, client


def test_a_report_reaches_the_queue_and_spam_hides_the_post_and_bans_its_author(forum_with_topic, admin):
    forum, _category, topic_id, spammer = forum_with_topic
    reporter = Client()
    sign_in(reporter, forum, "pia@example.com")
    post = Post.objects.get(topic_id=topic_id)
    assert reporter.post(f"/community/{forum.slug}/p/{post.pk}/report", {"reason": "spam", "note": "an ad"}).status_code == 302
    bad = reporter.post(f"/community/{forum.slug}/p/{post.pk}/report", {"reason": "boring"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400
    moderator = agent_client(admin)
    assert "an ad" in moderator.get("/app/community").content.decode()
    assert moderator.post(f"/app/community/posts/{post.pk}/spam").status_code == 302
    assert Client().get(f"/community/{forum.slug}/t/{topic_id}/").status_code == 404  # its first post: topic hidden
    assert CommunityMember.objects.get(email="ori@example.com").banned
    assert Report.objects.get(post=post).resolved_at is not None
    banned = spammer.post(f"/community/{forum.slug}/new", {"category": _category.pk, "title": "Again", "body": "x"},
                          HTTP_ACCEPT="application/json")
    assert (banned.status_code, banned.json()["code"]) == (403, "member_banned")
    actions = set(AuditEntry.objects.filter(workspace=admin.workspace).values_list("action", flat=True))
    assert "community.post_spam" in actions
    assert moderator.post(f"/app/community/posts/{post.pk}/unhide").status_code == 302
    assert Client().get(f"/community/{forum.slug}/t/{topic_id}/").status_code == 200


def test_hide_and_unhide_a_reply(forum_with_topic, admin):
    forum, _category, topic_id, author = forum_with_topic
    post_id = reply(author, forum, topic_id, "A rude remark")["post_id"]
    moderator = agent_client(admin)
    moderator.post(f"/app/community/posts/{post_id}/hide")
    assert "A rude remark" not in Client().get(f"/community/{forum.slug}/t/{topic_id}/").content.decode()
    assert Topic.objects.get(pk=topic_id).reply_count == 0
    moderator.post(f"/app/community/posts/{post_id}/unhide")
    assert "A rude remark" in Client().get(f"/community/{forum.slug}/t/{topic_id}/").content.decode()


def test_a_locked_topic_takes_no_replies(forum_with_topic, admin):
    forum, _category, topic_id, author = forum_with_topic
    agent_client(admin).post(f"/app/community/topics/{topic_id}/lock")
    refused = author.post(f"/community/{forum.slug}/t/{topic_id}/reply", {"body": "hello?"},
                          HTTP_ACCEPT="application/json")
    assert (refused.status_code, refused.json()["code"]) == (409, "topic_locked")
    assert "locked" in Client().get(f"/community/{forum.slug}/t/{topic_id}/").content.decode()
    agent_client(admin).post(f"/app/community/topics/{topic_id}/unlock")
    assert author.post(f"/community/{forum.slug}/t/{topic_id}/reply", {"body": "hello?"}).status_code == 302


def test_merging_moves_the_posts_and_the_old_address_leads_to_the_target(forum_with_topic, admin):
    forum, category, topic_id, author = forum_with_topic
    target = start_topic(author, forum, category, "Watches on sale", "Same question")
    moderator = agent_client(admin)
    refused = moderator.post(f"/app/community/topics/{topic_id}/merge", {"into": str(topic_id)})
    assert refused.status_code == 400
    assert moderator.post(f"/app/community/topics/{topic_id}/merge",
                          {"into": f"http://testserver/community/{forum.slug}/t/{target}/"}).status_code == 302
    old = Client().get(f"/community/{forum.slug}/t/{topic_id}/")
    assert (old.status_code, old["Location"]) == (301, f"/community/{forum.slug}/t/{target}/")
    assert Post.objects.filter(topic_id=target).count() == 2
    assert Topic.objects.get(pk=topic_id).state == TopicState.MERGED
    assert AuditEntry.objects.filter(action="community.topic_merge", details__into=target).exists()


def test_moderators_see_unanswered_topics_and_give_badges(forum_with_topic, admin):
    forum, _category, topic_id, _author = forum_with_topic
    member = CommunityMember.objects.get(email="ori@example.com")
    moderator = agent_client(admin)
    queue = moderator.get("/app/community").content.decode()
    unanswered = queue.split('id="unanswered-title"')[1].split("</section>")[0]
    assert f"/t/{topic_id}/" in unanswered
    assert f'action="/app/community/members/{member.pk}/badges"' in moderator.get(
        f"/community/{forum.slug}/t/{topic_id}/").content.decode()
    moderator.post(f"/app/community/members/{member.pk}/badges", {"badges": ["expert", "agent"]})
    member.refresh_from_db()
    assert member.badges == ["expert"]  # the agent badge is never given by hand
    assert 'class="badge expert"' in Client().get(f"/community/{forum.slug}/t/{topic_id}/").content.decode()


def test_two_workspaces_never_see_each_other(forum_with_topic, admin):
    forum, _category, topic_id, author = forum_with_topic
    other_admin = factories.make_workspace("Other Co")
    other_forum, other_category = make_forum(other_admin, slug="other")
    post = Post.objects.get(topic_id=topic_id)
    outsider = agent_client(other_admin)
    for url in (f"/app/community/posts/{post.pk}/hide", f"/app/community/topics/{topic_id}/lock",
                f"/app/community/forums/{forum.pk}/categories"):
        assert outsider.post(url, {"name": "x"}).status_code == 404, url
    assert outsider.post(f"/app/community/topics/{topic_id}/reply", {"body": "hi"}).status_code == 404
    # a member of the first workspace is nobody in the second forum, and a topic id of one forum is not in the other
    refused = author.post(f"/community/{other_forum.slug}/new", {"category": other_category.pk, "title": "t", "body": "b"})
    assert refused.status_code == 302 and "/signin" in refused["Location"]
    assert Client().get(f"/community/{other_forum.slug}/t/{topic_id}/").status_code == 404
    assert topic_id not in [t.pk for t in Topic.objects.filter(forum=other_forum)]
    assert "Buy cheap watches" not in outsider.get("/app/community").content.decode()
    # an agent of the other workspace is a plain reader here: no moderator tools
    assert "/app/community/posts/" not in outsider.get(f"/community/{forum.slug}/t/{topic_id}/").content.decode()


def test_moderators_reach_the_community_from_the_inbox_and_others_do_not(admin):
    agent = factories.make_agent(admin, "amy@example.com")
    light = factories.make_agent(admin, "lou@example.com", role="light_agent")
    assert 'id="community-nav"' in agent_client(agent).get("/app/").content.decode()
    assert 'id="community-nav"' not in agent_client(light).get("/app/").content.decode()
    assert agent_client(light).get("/app/community").status_code == 403
    assert agent_client(agent).get("/app/admin/").status_code == 403  # moderating is not administration
