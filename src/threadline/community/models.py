"""The community forum's rows: forums (one per brand), categories, topics, posts, votes, reports, members.

A `CommunityMember` is someone's public face in a workspace's forums: a customer (linked to the contact whose
email they proved by a one-time link, so their posts and their private conversations share one timeline) or an
agent (linked to their membership; shown with the agent badge). A new member's posts are held for moderation
until a moderator approves one (`trusted`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Forum(WorkspaceScoped):
    brand = models.ForeignKey("tenancy.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(unique=True, help_text=_("The forum's address: /community/<slug>/"))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    def __str__(self) -> str:
        return self.name


class Category(WorkspaceScoped):
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class Badge(models.TextChoices):
    AGENT = "agent", _("Agent")
    EXPERT = "expert", _("Expert")
    MODERATOR = "moderator", _("Moderator")


class CommunityMember(WorkspaceScoped):
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    membership = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    email = models.EmailField(blank=True, help_text=_("The proven address notifications go to"))
    display_name = models.CharField(_("display name"), max_length=100)
    badges = models.JSONField(default=list, blank=True)
    trusted = models.BooleanField(default=False, help_text=_("Posts appear without moderation"))
    banned = models.BooleanField(default=False)
    language = models.CharField(max_length=16, default="en")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "contact"], condition=models.Q(contact__isnull=False),
                                    name="community_member_contact"),
            models.UniqueConstraint(fields=["workspace", "membership"],
                                    condition=models.Q(membership__isnull=False), name="community_member_seat"),
        ]

    @property
    def is_agent(self) -> bool:
        return Badge.AGENT in (self.badges or [])


class TopicState(models.TextChoices):
    OPEN = "open", _("Open")
    LOCKED = "locked", _("Locked")
    HIDDEN = "hidden", _("Hidden")
    MERGED = "merged", _("Merged")


class Topic(WorkspaceScoped):
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="topics")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="topics")
    author = models.ForeignKey(CommunityMember, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    state = models.CharField(max_length=16, choices=TopicState.choices, default=TopicState.OPEN)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    accepted_answer = models.ForeignKey("Post", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    approved = models.BooleanField(default=True, help_text=_("False while its first post awaits moderation"))
    last_activity_at = models.DateTimeField(db_index=True)
    reply_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["forum", "state", "-last_activity_at"], name="community_topic_recent")]

    @property
    def is_public(self) -> bool:
        return self.approved and self.state in (TopicState.OPEN, TopicState.LOCKED)


class Post(WorkspaceScoped):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(CommunityMember, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(help_text=_("What the author wrote (Markdown)"))
    body_html = models.TextField(help_text=_("The body rendered and sanitized (nh3)"))
    held_for_moderation = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    spam = models.BooleanField(default=False)
    score = models.IntegerField(default=0)
    edited_at = models.DateTimeField(null=True, blank=True)
    private_request = models.ForeignKey(
        "tl_channels.InboundEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The portal submission an agent moved it to (a private conversation with its author)"))

    class Meta:
        ordering = ["id"]

    @property
    def is_visible(self) -> bool:
        return not (self.held_for_moderation or self.hidden)


class Vote(WorkspaceScoped):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(CommunityMember, on_delete=models.CASCADE, related_name="+")
    value = models.SmallIntegerField()  # +1 or -1

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "member"], name="community_vote_once")]


class ReportReason(models.TextChoices):
    SPAM = "spam", _("Spam")
    ABUSE = "abuse", _("Abusive or offensive")
    OTHER = "other", _("Something else")


class Report(WorkspaceScoped):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(CommunityMember, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=ReportReason.choices)
    note = models.CharField(max_length=500, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "reporter"], name="community_report_once")]


class Follow(WorkspaceScoped):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="follows")
    member = models.ForeignKey(CommunityMember, on_delete=models.CASCADE, related_name="+")
    notified_post_id = models.BigIntegerField(default=0, help_text=_("The last reply mailed to this follower"))
    accepted_post_id = models.BigIntegerField(default=0, help_text=_("The last accepted answer mailed"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "member"], name="community_follow_once")]


class SignInLink(WorkspaceScoped):
    """A one-time sign-in link mailed to an address (stored as its digest); it proves the address."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    display_name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
