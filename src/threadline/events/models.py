"""The transactional outbox: each published domain event is a row written in the business transaction."""

from __future__ import annotations

from django.db import models


class OutboxEvent(models.Model):
    workspace = models.ForeignKey("tenancy.Workspace", null=True, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"
