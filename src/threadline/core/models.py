"""Base model classes: every business row belongs to a workspace and carries aware timestamps."""

from __future__ import annotations

from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class WorkspaceScoped(TimeStamped):
    """A row that lives inside one workspace. Look it up for an actor only through `access_*` helpers."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
