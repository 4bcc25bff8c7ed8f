"""Proactive outreach: campaigns to a segment, event-triggered notifications, one audit row per recipient, the
workspace's outreach settings (quiet hours, rate limits, region defaults) and proactive widget rules."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Purpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    TRANSACTIONAL = "transactional", _("Transactional and service")


class OutreachSettings(WorkspaceScoped):
    """One per workspace. Quiet hours apply in each contact's own time zone; rate limits per channel kind per
    minute (`rate_limits` {"sms": 60}), else `default_rate_per_minute`; `region_defaults` {"TH": "line"}."""

    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    default_rate_per_minute = models.PositiveIntegerField(default=600)
    rate_limits = models.JSONField(default=dict, blank=True)
    region_defaults = models.JSONField(default=dict, blank=True)
    marketing_requires_opt_in = models.BooleanField(
        default=False, help_text=_("Marketing goes only to addresses that opted in on that channel"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="uniq_outreach_settings")]


class Campaign(WorkspaceScoped):
    """A one-off message to a segment (`kind` campaign), or the message an API event sends to one contact at a
    time (`kind` notification, named by `event`). `messages` {language: text} may use {{name}} and, for
    notifications, the event's {{variables}}; `whatsapp_template` {"name", "language"} goes outside WhatsApp's
    24-hour window (its variables: `template_variables`, names of variables in order)."""

    class Kind(models.TextChoices):
        CAMPAIGN = "campaign", _("Campaign")
        NOTIFICATION = "notification", _("Event notification")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CAMPAIGN)
    event = models.CharField(max_length=64, blank=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.MARKETING)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    segment = models.JSONField(default=dict, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    messages = models.JSONField(default=dict)
    whatsapp_template = models.JSONField(default=dict, blank=True)
    template_variables = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    source = models.CharField(max_length=32, blank=True, help_text=_("Who made it: empty for people, or crisis"))
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["workspace", "kind", "event"])]
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class OutreachDelivery(WorkspaceScoped):
    """Who received what: one row per recipient of a campaign (per event for a notification), with the channel
    it went on and why it did not go when it did not. `pending` and `held` (quiet hours, rate limit) wait for
    `due_at`; `queued` is on the channel's delivery queue; then `delivered` or `failed` from the channel."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        HELD = "held", _("Held")
        QUEUED = "queued", _("Queued")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliveries")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason_code = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=1000, blank=True)
    channel = models.ForeignKey("tl_channels.Channel", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    channel_choice = models.CharField(max_length=16, blank=True, help_text=_("stated, learned, regional or any"))
    address = models.CharField(max_length=320, blank=True)
    message = models.ForeignKey("conversations.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    variables = models.JSONField(default=dict, blank=True)
    key = models.CharField(max_length=200, blank=True, help_text=_("The caller's idempotency key (notifications)"))
    purpose = models.CharField(max_length=16, choices=Purpose.choices, blank=True,
                               help_text=_("The notification's own purpose; empty: the campaign's"))
    due_at = models.DateTimeField(null=True, blank=True)
    segments = models.PositiveIntegerField(default=0)
    as_template = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["campaign", "status", "due_at"]),
                   models.Index(fields=["channel", "sent_at"]),
                   models.Index(fields=["campaign", "key"])]
        ordering = ["id"]


class ProactiveRule(WorkspaceScoped):
    """A message the chat widget shows by itself: on a page whose URL matches `url_pattern` (shell-style `*`),
    after `seconds` on the page, or when the site calls `Threadline.proactive(call_name)`."""

    class Trigger(models.TextChoices):
        URL = "url", _("Page address")
        TIME = "time", _("Time on page")
        CALL = "call", _("JavaScript call")

    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    trigger = models.CharField(max_length=8, choices=Trigger.choices)
    url_pattern = models.CharField(max_length=500, blank=True)
    seconds = models.PositiveIntegerField(default=0)
    call_name = models.CharField(max_length=64, blank=True)
    messages = models.JSONField(default=dict, help_text=_("The message per language code"))
    position = models.IntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
