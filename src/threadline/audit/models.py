"""The audit log: who did what, from where, in which workspace. Rows are only ever added.

There is no update or delete path in code: `save()` refuses to change a stored row, `delete()` refuses, and
the queryset's `update()`/`delete()` refuse too. The only way rows leave is `AuditEntry.objects.expire()`,
which the retention sweep calls for entries older than the workspace's audit retention.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):  # noqa: N818 - reads as the rule that was broken
    """Raised when code tries to change or delete an audit entry."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are append-only")

    def expire(self, *, workspace_id: int, before: dt.datetime) -> int:
        """Remove one workspace's entries created before `before` (the audit retention); returns how many."""
        doomed = AuditEntry.objects.filter(workspace_id=workspace_id, created_at__lt=before)
        return doomed._raw_delete(doomed.db)  # noqa: SLF001 - the one sanctioned delete; nothing references entries


class ActorKind(models.TextChoices):
    USER = "user", _("Person")
    TOKEN = "token", _("API token")
    SYSTEM = "system", _("System")


class AuditEntry(models.Model):
    workspace = models.ForeignKey("tenancy.Workspace", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+", help_text=_("Empty for installation-wide entries"))
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices, default=ActorKind.SYSTEM)
    actor_user = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    actor_membership = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+")
    actor_token = models.ForeignKey("tenancy.ApiToken", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    actor_label = models.CharField(max_length=320, blank=True, help_text=_("Who it was when it happened"))
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "action", "id"]),
            models.Index(fields=["workspace", "target_type", "target_id"]),
        ]
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label or self.actor_kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnly("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are append-only")
