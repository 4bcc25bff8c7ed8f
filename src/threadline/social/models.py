"""Public items and what was done with them: `PublicItem` (one post, comment, reply or mention, in its thread,
with its author, reach and triage verdict), `PublicAction` (every answer, hide, delete or routing, by an agent
or a rule, with its reason and state), the workspace's `SocialSettings` and its automatic `SocialRule`s."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Category(models.TextChoices):
    QUESTION = "question", _("Question")
    COMPLAINT = "complaint", _("Complaint")
    PRAISE = "praise", _("Praise")
    SPAM = "spam", _("Spam")
    ABUSE = "abuse", _("Abuse")
    NOISE = "noise", _("Noise")


class Decision(models.TextChoices):
    ANSWER_PUBLIC = "answer_public", _("Answer publicly")
    MOVE_PRIVATE = "move_private", _("Move to private")
    HIDE = "hide", _("Hide")
    DO_NOT_ANSWER = "do_not_answer", _("Do not answer")


class ItemKind(models.TextChoices):
    POST = "post", _("Post")
    COMMENT = "comment", _("Comment")
    REPLY = "reply", _("Reply")
    MENTION = "mention", _("Mention")


class ItemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered publicly")
    PRIVATE = "private", _("Moved to private")
    HIDDEN = "hidden", _("Hidden")
    DELETED = "deleted", _("Deleted")
    IGNORED = "ignored", _("Not answered")


class PublicItem(WorkspaceScoped):
    """One public post, comment, reply or mention; (channel, source, external_id) is unique.

    `parent` is the item it answers (post → comment → reply) when Threadline has it; `own` items are the
    channel's own Page or account (our public replies). `removed` means the author or the provider took it
    down; `hidden` is the provider's hidden flag. The verdict comes from `threadline.triage`.
    """

    channel = models.ForeignKey("tl_channels.Channel", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=32)
    external_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=ItemKind.choices, default=ItemKind.COMMENT)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    parent_external_id = models.CharField(max_length=255, blank=True)
    root_external_id = models.CharField(max_length=255, blank=True)
    author_kind = models.CharField(max_length=16, blank=True)
    author_address = models.CharField(max_length=320, blank=True)
    author_handle = models.CharField(max_length=300, blank=True)
    author_name = models.CharField(max_length=300, blank=True)
    author_reach = models.PositiveIntegerField(null=True, blank=True, help_text=_("Followers, where known"))
    text = models.TextField(blank=True)
    url = models.CharField(max_length=1000, blank=True)
    language = models.CharField(max_length=16, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    own = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    removed = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(default=0)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    topics = models.JSONField(default=list, blank=True)
    known_customer = models.BooleanField(default=False)
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    conversation = models.ForeignKey("conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    team = models.ForeignKey("tenancy.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "source", "external_id"], name="social_item_once")]
        indexes = [models.Index(fields=["workspace", "status", "-priority", "-id"], name="social_item_inbox")]


class ActionKind(models.TextChoices):
    REPLY_PUBLIC = "reply_public", _("Public reply")
    REPLY_PRIVATE = "reply_private", _("Private reply")
    HIDE = "hide", _("Hide")
    UNHIDE = "unhide", _("Show again")
    DELETE = "delete", _("Delete")
    DO_NOT_ANSWER = "do_not_answer", _("Do not answer")
    ROUTE = "route", _("Route to a team")


class ActionState(models.TextChoices):
    DRAFT = "draft", _("Draft, waiting for approval")
    QUEUED = "queued", _("Queued")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    DISCARDED = "discarded", _("Discarded")


class PublicAction(WorkspaceScoped):
    """One thing done (or to be done) with a public item, by an agent (`author`) or a rule (`rule`), with why.

    Provider calls (public replies, hiding, deleting) run in `perform_action_task`; a private reply is a
    message of the item's conversation (`message`), delivered like any reply."""

    item = models.ForeignKey(PublicItem, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=16, choices=ActionKind.choices)
    state = models.CharField(max_length=16, choices=ActionState.choices, default=ActionState.QUEUED)
    text = models.TextField(blank=True)
    author = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    approved_by = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    rule = models.ForeignKey("social.SocialRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    provider_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    message = models.ForeignKey("conversations.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)


class SocialSettings(WorkspaceScoped):
    """A workspace's public reply workflow: approval of public replies, the "write to us" text."""

    approval_required = models.BooleanField(default=False, help_text=_(
        "Public replies are drafts until a second agent approves them"))
    private_invitation = models.TextField(blank=True, help_text=_(
        "Public answer that asks the author to write privately (please write to us at…)"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="social_settings_once")]


class RuleAction(models.TextChoices):
    HIDE = "hide", _("Hide the item")
    DELETE = "delete", _("Delete the item")
    ROUTE = "route", _("Route to a team")
    DO_NOT_ANSWER = "do_not_answer", _("Mark as not to be answered")


class SocialRule(WorkspaceScoped):
    """A rule that acts on new public items by itself: when every condition holds (empty: any), do `action`.
    Rules run in `position` order; each action is a `PublicAction` naming the rule and the reason."""

    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    min_reach = models.PositiveIntegerField(null=True, blank=True)
    min_priority = models.PositiveSmallIntegerField(null=True, blank=True)
    topic = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=16, choices=RuleAction.choices)
    team = models.ForeignKey("tenancy.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
