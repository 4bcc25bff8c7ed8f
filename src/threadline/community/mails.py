"""What the community mails (sign-in links, replies to followed topics, accepted answers), in the member's
language, through the installation's mail server (core.mail), and the signed links they carry.

Unsubscribe links are signed (django.core.signing, salted) and name one follow: whoever holds the mail can stop
that topic's mails, nothing else. Sign-in links carry a one-time secret and are never logged.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from threadline.community.models import CommunityMember, Follow, Forum, Post, Topic
from threadline.core import mail

UNSUBSCRIBE_SALT = "threadline.community.unsubscribe"


def topic_url(topic: Topic) -> str:
    return f"{settings.PUBLIC_URL}/community/{topic.forum.slug}/t/{topic.pk}/"


def unsubscribe_token(follow: Follow) -> str:
    return signing.dumps({"f": follow.pk, "m": follow.member_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def follow_of_token(token: str) -> int | None:
    """The follow id an unsubscribe token names, or None when it was not signed by this installation."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return int(data["f"]) if isinstance(data, dict) and isinstance(data.get("f"), int) else None


def unsubscribe_url(follow: Follow) -> str:
    return f"{settings.PUBLIC_URL}/community/unsubscribe/{unsubscribe_token(follow)}"


def sign_in_url(forum: Forum, raw: str) -> str:
    return f"{settings.PUBLIC_URL}/community/{forum.slug}/signin/{raw}"


def send_sign_in(forum: Forum, email: str, raw: str, language: str) -> bool:
    with translation.override(language):
        subject = _("Sign in to %(forum)s") % {"forum": forum.name}
        text = _("Open this link to sign in to the %(forum)s community (it works once, for 30 minutes):\n"
                 "%(url)s\n\nIf you did not ask for it, ignore this message.\n") % {
            "forum": forum.name, "url": sign_in_url(forum, raw)}
    return mail.send(email, subject, text)


def _send_topic_mail(follow: Follow, post: Post, subject: str, opening: str) -> bool:
    """A follower's mail about `post`: `subject` and `opening` are translatable formats naming the topic's
    title (and the post's author), written in the follower's language."""
    member: CommunityMember = follow.member
    topic = post.topic
    names = {"author": post.author.display_name, "title": topic.title}
    with translation.override(member.language):
        text = _("%(opening)s\n\n%(body)s\n\nRead the topic: %(url)s\n\nStop mails about this topic: %(unsubscribe)s\n") % {
            "opening": _(opening) % names, "body": post.body[:2000], "url": topic_url(topic),
            "unsubscribe": unsubscribe_url(follow)}
        return mail.send(member.email, _(subject) % names, text)


def send_reply(follow: Follow, post: Post) -> bool:
    return _send_topic_mail(follow, post, gettext_noop("New reply: %(title)s"),
                            gettext_noop("%(author)s replied to \"%(title)s\":"))


def send_accepted(follow: Follow, post: Post) -> bool:
    return _send_topic_mail(follow, post, gettext_noop("Answer accepted: %(title)s"),
                            gettext_noop("The answer by %(author)s was accepted for \"%(title)s\":"))
