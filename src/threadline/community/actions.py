"""Every write of the community (the caller owns the transaction): `check_*` validates, `do_*` changes rows,
re-indexes the topic it touched, records moderation in the audit log and publishes events after commit.

Members post; a member who is not yet trusted has their posts held until a moderator approves one (which
trusts them). Agents act through their membership (`community.moderate`); their public face is a member with
the agent badge (`do_member_for_agent`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from threadline.audit.actions import record_change
from threadline.community import search, tasks
from threadline.community.events import AnswerAccepted, PostCreated, PostModerated, TopicModerated
from threadline.community.mails import topic_url
from threadline.community.models import (
    Badge,
    Category,
    CommunityMember,
    Follow,
    Forum,
    Post,
    Report,
    ReportReason,
    SignInLink,
    Topic,
    TopicState,
    Vote,
)
from threadline.contacts.actions import resolve_sender
from threadline.contacts.identities import check_text, normalize_email
from threadline.contacts.models import IdentityKind
from threadline.core.crypto import token_digest
from threadline.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from threadline.core.html import sanitize
from threadline.core.throttle import check_rate
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.knowledge.actions import do_create_draft_from_text
from threadline.portal.actions import do_submit_request
from threadline.tenancy.models import Brand, Membership
from threadline.tenancy.permissions import Permission, require

MAX_TITLE = 200
MAX_BODY = 20_000
MAX_NAME = 100
SIGN_IN_MINUTES = 30
POSTS_PER_MINUTE = 5
POSTS_PER_HOUR = 30
ACTS_PER_MINUTE = 30  # votes, reports, follows
SIGN_IN_MAILS_PER_HOUR = 5  # to one address, whoever asks
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


# ── checks ───────────────────────────────────────────────────────────────────────────────────────────
def check_title(title: str) -> str:
    title = " ".join((title or "").split())
    check_text(title, field="title", max_length=MAX_TITLE)
    if not title:
        raise ValidationFailed(_("Give your topic a title."), code="title_required", field="title")
    return title


def check_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if len(body) > MAX_BODY:
        raise ValidationFailed(_("The post is too long (at most %(n)d characters).") % {"n": MAX_BODY},
                               code="too_long", field="body")
    check_text(body.replace("\n", " ").replace("\t", " "), field="body", max_length=MAX_BODY)
    if not body:
        raise ValidationFailed(_("Write something first."), code="body_required", field="body")
    return body


def render_body(body: str) -> str:
    """Markdown (no raw HTML) rendered, then sanitized with the allow-list every stored HTML goes through."""
    return sanitize(_markdown.render(body))


def check_can_post(member: CommunityMember) -> None:
    if member.banned:
        raise PermissionDenied(_("You can no longer post in this community."), code="member_banned")
    message = _("You are posting too fast; wait a little and try again.")
    check_rate(f"community:post:{member.pk}:m", POSTS_PER_MINUTE, window=60, message=message)
    check_rate(f"community:post:{member.pk}:h", POSTS_PER_HOUR, window=3600, message=message)


def check_act_rate(member: CommunityMember) -> None:
    check_rate(f"community:act:{member.pk}", ACTS_PER_MINUTE, window=60,
               message=_("You are going too fast; wait a little and try again."))


def check_open(topic: Topic) -> None:
    if topic.state == TopicState.LOCKED:
        raise Conflict(_("This topic is locked: it takes no more replies."), code="topic_locked")
    if not topic.is_public:
        raise NotFound(_("No such topic."), code="topic_not_found")


def check_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not slug or len(slug) > 50 or not all(c.isascii() and (c.isalnum() or c == "-") for c in slug):
        raise ValidationFailed(_("The address may use letters, digits and hyphens (at most 50)."),
                               code="invalid_slug", field="slug")
    if Forum.objects.filter(slug=slug).exists():
        raise Conflict(_("Another forum already uses this address."), code="slug_taken", field="slug")
    return slug


# ── forums and categories (moderators) ───────────────────────────────────────────────────────────────
def do_create_forum(actor: Membership, *, name: str, slug: str, brand: Brand | None = None,
                    description: str = "") -> Forum:
    require(actor, Permission.COMMUNITY_MODERATE)
    name = " ".join((name or "").split())
    check_text(name, field="name", max_length=200)
    if not name:
        raise ValidationFailed(_("Give the forum a name."), code="name_required", field="name")
    if brand is not None and brand.workspace_id != actor.workspace_id:
        raise NotFound(_("No such brand."), code="brand_not_found")
    forum = Forum.objects.create(workspace_id=actor.workspace_id, brand=brand, slug=check_slug(slug), name=name,
                                 description=(description or "").strip()[:2000])
    record_change("community.forum_created", forum, {"slug": forum.slug}, actor=actor)
    return forum


def do_create_category(actor: Membership, forum: Forum, *, name: str, description: str = "") -> Category:
    require(actor, Permission.COMMUNITY_MODERATE)
    name = " ".join((name or "").split())
    check_text(name, field="name", max_length=200)
    if not name:
        raise ValidationFailed(_("Give the category a name."), code="name_required", field="name")
    position = Category.objects.filter(forum=forum).count()
    category = Category.objects.create(workspace_id=forum.workspace_id, forum=forum, name=name, position=position,
                                       description=(description or "").strip()[:2000])
    record_change("community.category_created", category, {"name": name}, actor=actor)
    return category


# ── members and sign-in ──────────────────────────────────────────────────────────────────────────────
def do_member_for_agent(agent: Membership) -> CommunityMember:
    """The agent's public face in their workspace's forums: trusted, with the agent badge."""
    member = CommunityMember.objects.filter(workspace_id=agent.workspace_id, membership=agent).first()
    if member is None:
        member = CommunityMember.objects.create(
            workspace_id=agent.workspace_id, membership=agent, email=agent.user.email, trusted=True,
            display_name=(agent.user.name or agent.user.email.split("@")[0])[:MAX_NAME], badges=[Badge.AGENT],
            language=agent.user.language)
    return member


def check_display_name(name: str) -> str:
    name = " ".join((name or "").split())
    check_text(name, field="display_name", max_length=MAX_NAME)
    return name


def do_request_sign_in(forum: Forum, email: str, display_name: str = "") -> str:
    """A one-time link for `email` (valid SIGN_IN_MINUTES); returns its secret, which only the mail carries."""
    address = normalize_email(email)
    check_rate(f"community:signin-to:{forum.workspace_id}:{address}", SIGN_IN_MAILS_PER_HOUR, window=3600,
               message=_("Several sign-in links were sent to this address already; use one, or try again later."))
    raw = secrets.token_urlsafe(32)
    SignInLink.objects.create(workspace_id=forum.workspace_id, forum=forum, email=address,
                              display_name=check_display_name(display_name), digest=token_digest(raw),
                              expires_at=now() + dt.timedelta(minutes=SIGN_IN_MINUTES))
    return raw


def do_sign_in(forum: Forum, raw: str, *, language: str = "en") -> CommunityMember:
    """Use a sign-in link: the address is proven, so it resolves (or creates) its contact, verified, and the
    contact's member. A used, expired or unknown link is NotFound."""
    link = (SignInLink.objects.select_for_update().filter(digest=token_digest(raw or ""), forum=forum,
                                                          used_at__isnull=True, expires_at__gt=now()).first())
    if link is None:
        raise NotFound(_("This sign-in link has expired or was already used. Ask for a new one."),
                       code="link_invalid")
    link.used_at = now()
    link.save(update_fields=["used_at", "updated_at"])
    resolved = resolve_sender(forum.workspace, IdentityKind.EMAIL, link.email, name=link.display_name,
                              verified=True, source="community")
    contact = resolved.contact
    member = CommunityMember.objects.filter(workspace_id=forum.workspace_id, contact=contact).first()
    if member is None:
        name = link.display_name or contact.name or link.email.split("@")[0]
        member = CommunityMember.objects.create(workspace_id=forum.workspace_id, contact=contact, email=link.email,
                                                display_name=name[:MAX_NAME], language=language)
    elif member.email != link.email:
        member.email = link.email
        member.save(update_fields=["email", "updated_at"])
    return member


# ── posting ──────────────────────────────────────────────────────────────────────────────────────────
def _new_post(member: CommunityMember, topic: Topic, body: str) -> Post:
    return Post.objects.create(workspace_id=topic.workspace_id, topic=topic, author=member, body=body,
                               body_html=render_body(body), held_for_moderation=not member.trusted)


def _follow(member: CommunityMember, topic: Topic) -> None:
    Follow.objects.get_or_create(workspace_id=topic.workspace_id, topic=topic, member=member)


def _published(post: Post) -> None:
    topic = post.topic
    publish(PostCreated(workspace_id=topic.workspace_id, forum_id=topic.forum_id, topic_id=topic.pk, post_id=post.pk,
                        author_id=post.author_id, held=post.held_for_moderation))


def do_start_topic(member: CommunityMember, category: Category, *, title: str, body: str) -> Topic:
    check_can_post(member)
    title, body = check_title(title), check_body(body)
    topic = Topic.objects.create(workspace_id=category.workspace_id, forum_id=category.forum_id, category=category,
                                 author=member, title=title, approved=member.trusted, last_activity_at=now())
    post = _new_post(member, topic, body)
    _follow(member, topic)
    search.index_topics([topic.pk])
    _published(post)
    return topic


def _refresh_counts(topic: Topic) -> None:
    visible = Post.objects.filter(topic=topic, held_for_moderation=False, hidden=False).count()
    topic.reply_count = max(0, visible - 1)
    topic.last_activity_at = now()
    topic.save(update_fields=["reply_count", "last_activity_at", "updated_at"])


def do_reply(member: CommunityMember, topic: Topic, *, body: str) -> Post:
    """A reply; visible at once from a trusted member (followers are mailed), otherwise held."""
    check_open(topic)
    check_can_post(member)
    post = _new_post(member, topic, check_body(body))
    _follow(member, topic)
    if post.is_visible:
        _refresh_counts(topic)
        search.index_topics([topic.pk])
        tasks.notify_followers_task.enqueue(post.pk, unique_key=f"community:reply:{post.pk}", fresh=True)
    _published(post)
    return post


def do_vote(member: CommunityMember, post: Post, value: int) -> int:
    """Vote a post up (+1) or down (-1), once per member: the same vote again takes it back. Returns the
    post's new score."""
    if value not in (1, -1):
        raise ValidationFailed(_("A vote is up or down."), code="invalid_vote", field="value")
    if post.author_id == member.pk:
        raise Conflict(_("You cannot vote on your own post."), code="own_post")
    check_act_rate(member)
    if not post.is_visible or not post.topic.is_public:
        raise NotFound(_("No such post."), code="post_not_found")
    existing = Vote.objects.select_for_update().filter(post=post, member=member).first()
    if existing is None:
        try:
            with transaction.atomic():
                Vote.objects.create(workspace_id=post.workspace_id, post=post, member=member, value=value)
        except IntegrityError as exc:  # the same member's other request won the race
            raise Conflict(_("You already voted on this post."), code="already_voted") from exc
    elif existing.value == value:
        existing.delete()
    else:
        existing.value = value
        existing.save(update_fields=["value", "updated_at"])
    score = Vote.objects.filter(post=post).aggregate(total=Sum("value"))["total"] or 0
    Post.objects.filter(pk=post.pk).update(score=score)
    return score


def _may_accept(topic: Topic, member: CommunityMember | None, agent: Membership | None) -> bool:
    if agent is not None and agent.workspace_id == topic.workspace_id:
        require(agent, Permission.COMMUNITY_MODERATE)
        return True
    return member is not None and member.pk == topic.author_id


def do_accept_answer(topic: Topic, post: Post | None, *, member: CommunityMember | None = None,
                     agent: Membership | None = None) -> None:
    """Accept `post` as the topic's answer (None takes the acceptance back): the topic's author or a moderator."""
    if not _may_accept(topic, member, agent):
        raise PermissionDenied(_("Only the topic's author or a moderator can accept an answer."),
                               code="not_topic_author")
    if post is not None:
        first = Post.objects.filter(topic=topic).order_by("id").values_list("pk", flat=True).first()
        if post.topic_id != topic.pk or not post.is_visible or post.pk == first:
            raise ValidationFailed(_("Accept one of the topic's replies."), code="invalid_answer", field="post")
    topic.accepted_answer = post
    topic.save(update_fields=["accepted_answer", "updated_at"])
    if post is not None:
        publish(AnswerAccepted(workspace_id=topic.workspace_id, topic_id=topic.pk, post_id=post.pk))
        tasks.notify_accepted_task.enqueue(topic.pk, post.pk, unique_key=f"community:accepted:{topic.pk}:{post.pk}")
    if agent is not None:
        record_change("community.answer_accepted", topic, {"post_id": post.pk if post else None}, actor=agent)


def do_report(member: CommunityMember, post: Post, *, reason: str, note: str = "") -> Report:
    if reason not in ReportReason.values:
        raise ValidationFailed(_("Choose why you report this post."), code="invalid_reason", field="reason")
    check_text(note or "", field="note", max_length=500)
    if not post.is_visible or not post.topic.is_public:
        raise NotFound(_("No such post."), code="post_not_found")
    check_act_rate(member)
    report, _created = Report.objects.update_or_create(
        post=post, reporter=member,
        defaults={"workspace_id": post.workspace_id, "reason": reason, "note": (note or "").strip(),
                  "resolved_at": None, "resolved_by": None})
    return report


def do_follow(member: CommunityMember, topic: Topic, *, follow: bool) -> None:
    check_act_rate(member)
    if follow:
        _follow(member, topic)
    else:
        Follow.objects.filter(topic=topic, member=member).delete()


def do_unsubscribe(follow_id: int) -> bool:
    """The signed unsubscribe link's follow (whoever holds the link); False when it was already gone."""
    return Follow.objects.filter(pk=follow_id).delete()[0] > 0


# ── moderation ───────────────────────────────────────────────────────────────────────────────────────
POST_OPERATIONS = ("approve", "hide", "unhide", "spam")
TOPIC_OPERATIONS = ("lock", "unlock", "hide", "unhide", "merge")


def _first_post_id(topic: Topic) -> int | None:
    return Post.objects.filter(topic=topic).order_by("id").values_list("pk", flat=True).first()


def do_moderate_post(agent: Membership, post: Post, operation: str) -> Post:
    """approve (a held post appears and its author is trusted from now on), hide, unhide, spam (hidden, its
    author banned, its reports resolved). Audited."""
    require(agent, Permission.COMMUNITY_MODERATE)
    if operation not in POST_OPERATIONS:
        raise ValidationFailed(_("Unknown moderation."), code="invalid_operation", field="operation")
    topic = post.topic
    was_visible = post.is_visible
    if operation == "approve":
        post.held_for_moderation = False
        CommunityMember.objects.filter(pk=post.author_id).update(trusted=True)
        if post.pk == _first_post_id(topic) and not topic.approved:
            topic.approved = True
            topic.save(update_fields=["approved", "updated_at"])
    elif operation == "hide":
        post.hidden = True
    elif operation == "unhide":
        post.hidden, post.spam = False, False
    elif operation == "spam":
        post.hidden, post.spam = True, True
        CommunityMember.objects.filter(pk=post.author_id, membership__isnull=True).update(banned=True,
                                                                                       trusted=False)
        Report.objects.filter(post=post, resolved_at__isnull=True).update(resolved_at=now(), resolved_by=agent)
    post.save(update_fields=["held_for_moderation", "hidden", "spam", "updated_at"])
    if post.pk == _first_post_id(topic) and operation in ("hide", "spam", "unhide") and topic.state in (
            TopicState.OPEN, TopicState.LOCKED, TopicState.HIDDEN):
        topic.state = TopicState.HIDDEN if post.hidden else TopicState.OPEN
        topic.save(update_fields=["state", "updated_at"])
    _refresh_counts(topic)
    search.index_topics([topic.pk])
    if operation == "approve" and not was_visible and post.pk != _first_post_id(topic):
        tasks.notify_followers_task.enqueue(post.pk, unique_key=f"community:reply:{post.pk}")
    record_change(f"community.post_{operation}", post, {"topic_id": topic.pk}, actor=agent)
    publish(PostModerated(workspace_id=post.workspace_id, post_id=post.pk, topic_id=topic.pk, operation=operation,
                          actor_id=agent.pk))
    return post


def do_moderate_topic(agent: Membership, topic: Topic, operation: str, *, into: Topic | None = None) -> Topic:
    """lock, unlock, hide, unhide, or merge into another topic of the same forum (its posts move there, its
    address then leads there). Audited."""
    require(agent, Permission.COMMUNITY_MODERATE)
    if operation not in TOPIC_OPERATIONS:
        raise ValidationFailed(_("Unknown moderation."), code="invalid_operation", field="operation")
    if topic.state == TopicState.MERGED:
        raise Conflict(_("This topic was merged into another."), code="topic_merged")
    details: dict[str, object] = {}
    states = {"lock": TopicState.LOCKED, "unlock": TopicState.OPEN, "hide": TopicState.HIDDEN,
              "unhide": TopicState.OPEN}
    if operation == "merge":
        if into is None or into.forum_id != topic.forum_id or into.pk == topic.pk or into.state == TopicState.MERGED:
            raise ValidationFailed(_("Choose another topic of the same forum to merge into."),
                                   code="invalid_merge_target", field="into")
        Post.objects.filter(topic=topic).update(topic=into)
        for follow in Follow.objects.filter(topic=topic):
            Follow.objects.get_or_create(workspace_id=into.workspace_id, topic=into, member_id=follow.member_id)
        Follow.objects.filter(topic=topic).delete()
        topic.state, topic.merged_into, topic.accepted_answer = TopicState.MERGED, into, None
        details["into"] = into.pk
        _refresh_counts(into)
    else:
        topic.state = states[operation]
    topic.save(update_fields=["state", "merged_into", "accepted_answer", "updated_at"])
    search.index_topics([topic.pk, *([into.pk] if into is not None else [])])
    record_change(f"community.topic_{operation}", topic, details, actor=agent)
    publish(TopicModerated(workspace_id=topic.workspace_id, topic_id=topic.pk, operation=operation,
                           actor_id=agent.pk))
    return topic


def do_resolve_report(agent: Membership, report: Report) -> Report:
    require(agent, Permission.COMMUNITY_MODERATE)
    report.resolved_at, report.resolved_by = now(), agent
    report.save(update_fields=["resolved_at", "resolved_by", "updated_at"])
    record_change("community.report_resolved", report, {"post_id": report.post_id}, actor=agent)
    return report


def do_set_badges(agent: Membership, member: CommunityMember, badges: list[str]) -> CommunityMember:
    require(agent, Permission.COMMUNITY_MODERATE)
    wanted = sorted({b for b in badges if b in (Badge.EXPERT, Badge.MODERATOR)})
    kept = [Badge.AGENT] if member.is_agent else []
    member.badges = kept + wanted
    member.save(update_fields=["badges", "updated_at"])
    record_change("community.badges_set", member, {"badges": member.badges}, actor=agent)
    return member


def do_agent_reply(agent: Membership, topic: Topic, *, body: str) -> Post:
    """An agent's public answer, with the agent badge (never held)."""
    require(agent, Permission.COMMUNITY_MODERATE)
    return do_reply(do_member_for_agent(agent), topic, body=body)


__all__ = [
    "do_accept_answer", "do_agent_reply", "do_create_category", "do_create_forum", "do_follow",
    "do_member_for_agent", "do_moderate_post", "do_moderate_topic", "do_reply", "do_report", "do_request_sign_in",
    "do_resolve_report", "do_set_badges", "do_sign_in", "do_start_topic", "do_unsubscribe", "do_vote",
]


# ── agents' hand-offs to other domains ───────────────────────────────────────────────────────────────
def do_move_to_private(agent: Membership, post: Post) -> Post:
    """Continue a member's post as a private conversation with them, on their contact's one timeline (the
    portal's `do_submit_request`, source "community"); the post leaves the public forum. Audited."""
    require(agent, Permission.COMMUNITY_MODERATE)
    author = post.author
    if author.contact_id is None:
        raise ValidationFailed(_("Only a customer's post can move to a private conversation."),
                               code="not_a_customer", field="post")
    if post.private_request_id is not None:
        raise Conflict(_("This post already continues in a private conversation."), code="already_private")
    topic = post.topic
    event = do_submit_request(workspace=topic.forum.workspace, brand=topic.forum.brand, email=author.email,
                              name=author.display_name, subject=topic.title, text=post.body, source="community",
                              contact=author.contact)
    post.private_request_id = event.pk
    post.hidden = True
    post.save(update_fields=["private_request", "hidden", "updated_at"])
    if post.pk == _first_post_id(topic):
        topic.state = TopicState.HIDDEN
        topic.save(update_fields=["state", "updated_at"])
    _refresh_counts(topic)
    search.index_topics([topic.pk])
    record_change("community.post_moved_private", post, {"inbound_event_id": event.pk}, actor=agent)
    return post


def do_promote_to_article(agent: Membership, topic: Topic) -> Any:
    """Turn the topic's accepted answer into a draft article of the knowledge base (the knowledge domain's
    `do_create_draft_from_text`, which needs `knowledge.edit` too), titled like the topic and pointing back
    at it. Audited."""
    require(agent, Permission.COMMUNITY_MODERATE)
    answer = topic.accepted_answer
    if answer is None or not answer.is_visible:
        raise ValidationFailed(_("Accept an answer first: it becomes the article."), code="no_accepted_answer")
    language = topic.author.language or topic.forum.workspace.default_language
    draft = do_create_draft_from_text(topic.forum.workspace, title=topic.title, body_markdown=answer.body,
                                      language=language, source_url=topic_url(topic), actor=agent)
    record_change("community.answer_promoted", topic, {"post_id": answer.pk, "translation_id": draft.pk},
                  actor=agent)
    return draft
