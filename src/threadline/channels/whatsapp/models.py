"""Message templates synced from the WhatsApp Business Account (the only thing sendable outside 24 hours)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class MessageTemplate(WorkspaceScoped):
    channel = models.ForeignKey("tl_channels.Channel", on_delete=models.CASCADE, related_name="wa_templates")
    provider_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    category = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=32, help_text=_("APPROVED, PENDING, REJECTED, PAUSED, DISABLED"))
    components = models.JSONField(default=list, blank=True)
    variables = models.PositiveIntegerField(default=0, help_text=_("Number of {{n}} placeholders"))
    synced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "name", "language"], name="uniq_wa_template")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language}, {self.status})"
