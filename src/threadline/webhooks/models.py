"""Outbound webhook subscriptions to domain events, and the log of every delivery attempt."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class WebhookSubscription(WorkspaceScoped):
    url = models.URLField(max_length=2000)
    secret_encrypted = models.TextField()
    event_types = models.JSONField(default=list, help_text=_("Event types, or ['*'] for all"))
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=300, blank=True)


class WebhookDelivery(WorkspaceScoped):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("events.OutboxEvent", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="uniq_webhook_delivery")
        ]
