"""Reads of the community: what the public pages show (only public topics and visible posts, plus a member's
own held posts), and `access_*` for agents (their workspace only: another workspace's ids are not found)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from threadline.community.models import (
    Category,
    CommunityMember,
    Forum,
    Post,
    Report,
    Topic,
    TopicState,
    Vote,
)
from threadline.community.search import search_topic_ids
from threadline.core.errors import NotFound
from threadline.portal.queries import message_of
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

PAGE = 30
PUBLIC_STATES = (TopicState.OPEN, TopicState.LOCKED)


def forum_by_slug(slug: str) -> Forum:
    forum = Forum.objects.select_related("workspace", "brand").filter(slug=slug).first()
    if forum is None:
        raise NotFound(_("No such community."), code="forum_not_found")
    return forum


def categories(forum: Forum) -> QuerySet[Category]:
    return Category.objects.filter(forum=forum)


def category_of(forum: Forum, category_id: int) -> Category:
    category = Category.objects.filter(forum=forum, pk=category_id).first()
    if category is None:
        raise NotFound(_("No such category."), code="category_not_found")
    return category


def public_topics(forum: Forum) -> QuerySet[Topic]:
    return (Topic.objects.filter(forum=forum, approved=True, state__in=PUBLIC_STATES)
            .select_related("author", "category").order_by("-last_activity_at", "-id"))


def recent_topics(forum: Forum, category: Category | None = None, *, page: int = 1) -> list[Topic]:
    topics = public_topics(forum)
    if category is not None:
        topics = topics.filter(category=category)
    start = (max(1, page) - 1) * PAGE
    return list(topics[start:start + PAGE + 1])


def topic_for_reading(forum: Forum, topic_id: int, member: CommunityMember | None = None) -> Topic:
    """A topic as the public sees it; a merged one is returned as is (the page redirects to `merged_into`);
    a topic whose first post is held is shown to its author only."""
    topic = Topic.objects.select_related("author", "category", "forum", "accepted_answer__author").filter(
        forum=forum, pk=topic_id).first()
    if topic is None or topic.state == TopicState.HIDDEN:
        raise NotFound(_("No such topic."), code="topic_not_found")
    if not topic.approved and (member is None or member.pk != topic.author_id):
        raise NotFound(_("No such topic."), code="topic_not_found")
    return topic


def topic_posts(topic: Topic, member: CommunityMember | None = None) -> list[Post]:
    """The topic's visible posts (and the viewer's own held ones), in order; the accepted answer is shown again
    on top by the page."""
    shown = Q(held_for_moderation=False, hidden=False)
    if member is not None:
        shown |= Q(author=member, hidden=False)
    return list(Post.objects.filter(shown, topic=topic).select_related("author").order_by("id"))


def votes_of(member: CommunityMember | None, posts: list[Post]) -> dict[int, int]:
    if member is None or not posts:
        return {}
    return dict(Vote.objects.filter(member=member, post__in=posts).values_list("post_id", "value"))


def post_in(forum: Forum, post_id: int) -> Post:
    post = Post.objects.select_related("topic").filter(topic__forum=forum, pk=post_id).first()
    if post is None or not post.is_visible or not post.topic.is_public:
        raise NotFound(_("No such post."), code="post_not_found")
    return post


@dataclass(frozen=True)
class Found:
    topics: list[Topic]
    query: str


def search_topics(forum: Forum, query: str, *, limit: int = PAGE) -> Found:
    """The forum's public topics matching `query`, best first (the search engine, every language)."""
    ids = search_topic_ids(forum.workspace_id, query, limit=limit * 3)
    rows = {t.pk: t for t in public_topics(forum).filter(pk__in=ids)}
    return Found([rows[i] for i in ids if i in rows][:limit], query)


# ── agents (permission-checked) ──────────────────────────────────────────────────────────────────────
def list_forums(actor: Membership) -> QuerySet[Forum]:
    require(actor, Permission.COMMUNITY_MODERATE)
    return Forum.objects.filter(workspace_id=actor.workspace_id).select_related("brand").order_by("name")


def access_forum(actor: Membership, forum_id: int) -> Forum:
    forum = list_forums(actor).filter(pk=forum_id).first()
    if forum is None:
        raise NotFound(_("No such community."), code="forum_not_found")
    return forum


def _accessed(actor: Membership, rows: QuerySet[Any], pk: int, message: str, code: str) -> Any:
    """One of the actor's workspace's `rows` (permission first: 403 before 404), or NotFound."""
    require(actor, Permission.COMMUNITY_MODERATE)
    found = rows.filter(workspace_id=actor.workspace_id, pk=pk).first()
    if found is None:
        raise NotFound(message, code=code)
    return found


def access_topic(actor: Membership, topic_id: int) -> Topic:
    return _accessed(actor, Topic.objects.select_related("forum"), topic_id, _("No such topic."), "topic_not_found")


def access_post(actor: Membership, post_id: int) -> Post:
    return _accessed(actor, Post.objects.select_related("topic__forum", "author__contact"), post_id,
                     _("No such post."), "post_not_found")


def access_report(actor: Membership, report_id: int) -> Report:
    return _accessed(actor, Report.objects.all(), report_id, _("No such report."), "report_not_found")


def access_member(actor: Membership, member_id: int) -> CommunityMember:
    return _accessed(actor, CommunityMember.objects.all(), member_id, _("No such member."), "member_not_found")


@dataclass(frozen=True)
class Queue:
    held: list[Post]
    reports: list[Report]
    hidden: list[Post]
    unanswered: list[Topic]


def moderation_queue(actor: Membership, *, limit: int = 100) -> Queue:
    """Held posts (oldest first), open reports, recently hidden posts, and open topics nobody answered yet
    (oldest first: who waits longest) of the actor's workspace."""
    require(actor, Permission.COMMUNITY_MODERATE)
    posts = Post.objects.filter(workspace_id=actor.workspace_id).select_related("topic__forum", "author")
    held = list(posts.filter(held_for_moderation=True, hidden=False).order_by("id")[:limit])
    reports = list(Report.objects.filter(workspace_id=actor.workspace_id, resolved_at__isnull=True)
                   .select_related("post__topic__forum", "post__author", "reporter").order_by("id")[:limit])
    hidden = list(posts.filter(hidden=True).select_related("private_request").order_by("-updated_at")[:limit])
    for post in hidden:  # a post moved to a private conversation links it once the worker made it
        message = message_of(post.private_request) if post.private_request_id else None
        post.conversation_id = message.conversation_id if message else None  # type: ignore[attr-defined]
    unanswered = list(Topic.objects.filter(workspace_id=actor.workspace_id, approved=True, state=TopicState.OPEN,
                                           reply_count=0).select_related("forum", "author")
                      .order_by("last_activity_at")[:limit])
    return Queue(held, reports, hidden, unanswered)
