"""Durable background work: one row per task call, claimed with a lease, retried with backoff."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        DEAD = "dead", _("Dead letter")

    task = models.CharField(max_length=200, db_index=True)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    unique_key = models.CharField(
        max_length=255, null=True, blank=True, unique=True,
        help_text=_("At most one job per key: enqueueing the same key again is a no-op"),
    )
    batch = models.BooleanField(
        default=False, help_text=_("Database-only task: run with others in one transaction and marked done in it"),
    )
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=8)
    run_after = models.DateTimeField(db_index=True)
    locked_by = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "run_after"])]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} [{self.state}]"


class SchedulerLock(models.Model):
    """A named lease row: the scheduler that holds it acts, any other waits."""

    name = models.CharField(max_length=64, primary_key=True)
    holder = models.CharField(max_length=100)
    expires_at = models.DateTimeField()
