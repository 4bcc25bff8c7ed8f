"""Conversations (tickets), their messages and attachments, and the append-only timeline."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Tag(WorkspaceScoped):
    name = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="uniq_tag_name")]

    def __str__(self) -> str:
        return self.name


class Conversation(WorkspaceScoped):
    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT, related_name="conversations")
    subject = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW, db_index=True)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    team = models.ForeignKey("tenancy.Team", null=True, blank=True, on_delete=models.SET_NULL)
    assignee = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL)
    brand = models.ForeignKey("tenancy.Brand", null=True, blank=True, on_delete=models.SET_NULL)
    language = models.CharField(max_length=16, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")
    custom_fields = models.JSONField(default=dict, blank=True)
    sla_state = models.JSONField(default=dict, blank=True)
    origin_channel = models.ForeignKey(
        "tl_channels.Channel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_inbound_channel = models.ForeignKey(
        "tl_channels.Channel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followups",
        help_text=_("The earlier conversation this one follows on from"),
    )
    thread_key = models.CharField(
        max_length=255, blank=True,
        help_text=_("A conversation the provider names apart from its members (a group chat id) on origin_channel"),
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_conversations"
    )
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "status", "updated_at"]),
            models.Index(fields=["workspace", "contact", "status"]),
            models.Index(fields=["assignee", "status"]),  # an agent's queue ("Mine") without their history
            models.Index(fields=["origin_channel", "thread_key"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class AuthorKind(models.TextChoices):
    CONTACT = "contact", _("Contact")
    AGENT = "agent", _("Agent")
    BOT = "bot", _("Bot")
    SYSTEM = "system", _("System")


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


# an outbound message's statuses in the order they may move (`failed` may come at any point)
STATUS_ORDER = (DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


def statuses_from(status: str) -> tuple[str, ...]:
    """`status` and the statuses further on in STATUS_ORDER (none for `failed` or a status not in it)."""
    return STATUS_ORDER[STATUS_ORDER.index(status):] if status in STATUS_ORDER else ()


class Message(WorkspaceScoped):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    author_kind = models.CharField(max_length=16, choices=AuthorKind.choices)
    author_contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_membership = models.ForeignKey(
        "tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.ForeignKey(
        "tl_channels.Channel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    identity = models.ForeignKey(
        "contacts.ContactIdentity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The identity the customer wrote from, or the one a reply goes to"),
    )
    provider_message_id = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    is_note = models.BooleanField(default=False)
    language = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED)
    status_reason = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text=_("When the provider says it was sent"))
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="uniq_provider_message_id",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            models.Index(fields=["conversation", "id"]),  # a conversation's messages, paged by id
            models.Index(fields=["workspace", "provider_message_id"]),  # threading by References / In-Reply-To
        ]

    def __str__(self) -> str:
        return f"message {self.pk} ({self.direction})"


class Attachment(WorkspaceScoped):
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to="%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.filename


class ConversationEvent(WorkspaceScoped):
    """The persisted, append-only timeline of a conversation. Analytics are computed from these rows."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=64)
    actor = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at"])]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.conversation_id}"


class ScheduledReply(WorkspaceScoped):
    """A reply an agent wrote to go out later ("send later"): the job queue sends it at `send_at` as that agent,
    under the channel's rules then; until then it can be cancelled. A reply the channel refuses at that time
    is kept as `failed` with the reason."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="scheduled_replies")
    author = models.ForeignKey("tenancy.Membership", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("tl_channels.Channel", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    text = models.TextField()
    send_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.SCHEDULED)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "state"])]

    def __str__(self) -> str:
        return f"reply to {self.conversation_id} at {self.send_at:%Y-%m-%d %H:%M}"
