"""Configured channels, every raw inbound payload (for replay and audit), and outbound deliveries."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core import crypto
from threadline.core.models import WorkspaceScoped


class Channel(WorkspaceScoped):
    kind = models.CharField(max_length=32, db_index=True)
    provider = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200)
    config_encrypted = models.TextField(blank=True, help_text=_("Adapter config, encrypted at rest"))
    routing_key = models.CharField(max_length=320, blank=True, db_index=True)
    is_active = models.BooleanField(default=True)
    last_event_at = models.DateTimeField(
        null=True, blank=True,
        help_text=_("When a payload was last accepted on this channel (kept to the minute; see note_event_received)"),
    )

    def __str__(self) -> str:
        return f"{self.kind}: {self.name}"

    @property
    def config(self) -> dict[str, Any]:
        return crypto.decrypt_json(self.config_encrypted)


class InboundEvent(WorkspaceScoped):
    """A received payload exactly as it arrived; (channel, idempotency_key) is unique.

    An event that cannot be processed ends `failed` with a human `error` (and a stable `error_code`): it is
    listed as "needs attention" in the workspace and the API, its payload kept, and `replays` counts how
    often an admin ran it again after a fix (see `channels/attention.py`).
    """

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="inbound_events")
    idempotency_key = models.CharField(max_length=255)
    body = models.BinaryField()
    headers = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED, db_index=True)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text=_("Processing attempts that hit a passing error"))
    replays = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    contacts = models.ManyToManyField(
        "contacts.Contact", blank=True, related_name="+",
        help_text=_("The contacts processing found in the payload (what erasing a contact removes)"),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "idempotency_key"], name="uniq_inbound_event")
        ]


class Delivery(WorkspaceScoped):
    """One outbound message's way to the provider: attempts, backoff, the provider's answer."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    message = models.OneToOneField(
        "conversations.Message", on_delete=models.CASCADE, related_name="delivery"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [  # sends pending on a channel (a provider's status for an id not recorded yet asks it)
            models.Index(fields=["channel", "updated_at"], condition=models.Q(state="pending"),
                         name="delivery_pending_by_channel"),
        ]
