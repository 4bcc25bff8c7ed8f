"""Background mail of the community: one job per reply or accepted answer, mailing each follower once.

Idempotent: a follow remembers the last post it was mailed about (`Follow.notified_post_id`, `Follow.accepted_post_id`), so a retried job
mails only those it had not reached; a follower who unsubscribed in between gets nothing.
"""

from __future__ import annotations

from django.db import transaction

from threadline.jobs.registry import Retry, task


def _mail_followers(post_id: int, send: str, mark: str, *, include_author: bool) -> int:
    from threadline.community import mails
    from threadline.community.models import Follow, Post
    from threadline.core import mail

    if not mail.configured():
        return 0  # no mail server: nothing to retry

    post = Post.objects.select_related("topic__forum", "author").filter(pk=post_id).first()
    if post is None or not post.is_visible:
        return 0
    follows = (Follow.objects.filter(topic_id=post.topic_id, member__banned=False).exclude(member__email="")
               .exclude(**{f"{mark}__gte": post.pk}).select_related("member").order_by("id"))
    if not include_author:
        follows = follows.exclude(member_id=post.author_id)
    sent = 0
    for follow in follows:
        if not getattr(mails, send)(follow, post):
            raise Retry("the mail server did not take a community notification", after=60)
        with transaction.atomic():
            Follow.objects.filter(pk=follow.pk).update(**{mark: post.pk})
        sent += 1
    return sent


@task(max_attempts=5)
def notify_followers_task(post_id: int) -> int:
    """Mail a new visible reply to the topic's followers (not its author)."""
    return _mail_followers(post_id, "send_reply", "notified_post_id", include_author=False)


@task(max_attempts=5)
def notify_accepted_task(topic_id: int, post_id: int) -> int:
    """Mail an accepted answer to the topic's followers, the answer's author among them."""
    return _mail_followers(post_id, "send_accepted", "accepted_post_id", include_author=True)
