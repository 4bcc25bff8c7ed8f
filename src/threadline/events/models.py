"""The transactional outbox: each published domain event is a row written in the business transaction."""

from __future__ import annotations

from django.db import models


class OutboxEvent(models.Model):
    workspace = models.ForeignKey("tenancy.Workspace", null=True, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        # One type's events newest first (the polling read, webhooks/contracts.py) on both databases; it also
        # serves every lookup by type alone, as the single-column index it replaced did.
        indexes = [models.Index(fields=["type", "id"], name="events_outbox_type_id")]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"
