"""Automations (event triggers and time rules), their execution log, and the causation of their events."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Automation(WorkspaceScoped):
    """An ordered rule: when `events` happen (or, for time rules, periodically) and every condition in
    `conditions["all"]` and at least one of `conditions["any"]` (if given) holds, run `actions` in order.

    See docs/automations.md for the fields, operators and actions.
    """

    class Kind(models.TextChoices):
        EVENT = "event", _("Event trigger")
        TIME = "time", _("Time rule")

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.EVENT)
    position = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    events = models.JSONField(default=list, blank=True)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list)
    max_runs_per_day = models.PositiveIntegerField(
        default=10, help_text=_("Runs on one conversation within 24 hours before the rule stops itself"))

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class AutomationRun(WorkspaceScoped):
    """One evaluation that did something (or was stopped): the per-conversation execution log."""

    class Outcome(models.TextChoices):
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        LOOP_STOPPED = "loop_stopped", _("Stopped: loop protection")
        CAPPED = "capped", _("Stopped: too many runs")

    automation = models.ForeignKey(Automation, null=True, on_delete=models.CASCADE, related_name="runs")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE,
                                     related_name="automation_runs")
    trigger = models.CharField(max_length=64)
    dedupe_key = models.CharField(max_length=128)
    depth = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    performed = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["automation", "conversation", "dedupe_key"],
                                               name="uniq_automation_run")]
        indexes = [models.Index(fields=["conversation", "created_at"])]


class EventCause(models.Model):
    """Which automations caused an outbox event, and how deep in a chain it is (loop protection)."""

    outbox_id = models.BigIntegerField(unique=True)
    depth = models.PositiveIntegerField()
    chain = models.JSONField(default=list, help_text=_("Ids of the automations that led to this event"))
