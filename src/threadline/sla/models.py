"""Business-hour schedules, SLA policies and the timers that count business time on each conversation."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped
from threadline.sla.businesshours import Calendar


class BusinessSchedule(WorkspaceScoped):
    """Weekly opening hours in one time zone, minus a country's public holidays and custom closed dates.

    `weekly` is `{"sun": [["09:00", "17:00"]], ...}`; a day that is absent is closed. A schedule may be a
    brand's default (used by SLA policies without their own schedule) and teams point at one in routing.
    """

    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64)
    weekly = models.JSONField(default=dict)
    holiday_country = models.CharField(max_length=3, blank=True, help_text=_("ISO country of public holidays"))
    holiday_subdiv = models.CharField(max_length=10, blank=True)
    custom_holidays = models.JSONField(default=list, blank=True, help_text=_('[{"date": "2026-12-31", "name": …}]'))
    brand = models.OneToOneField("tenancy.Brand", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="schedule")

    def calendar(self) -> Calendar:
        return Calendar.build(self.time_zone, self.weekly, country=self.holiday_country, subdiv=self.holiday_subdiv,
                              closed_dates=[h["date"] for h in self.custom_holidays])

    def __str__(self) -> str:
        return self.name


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class SlaPolicy(WorkspaceScoped):
    """Targets in business minutes, chosen for a conversation by conditions; the first matching policy wins.

    `conditions` (all optional, all must hold): `priorities`, `channel_kinds`, `brand_ids`, `languages`,
    `team_ids` (lists: the conversation's value must be in it), `tags` (the conversation has one of them) and
    `contact_attributes` (exact values).
    `escalation` lists what happens on a breach: `{"type": "notify"}`, `{"type": "reassign"}`,
    `{"type": "set_priority", "value": "urgent"}`.
    """

    name = models.CharField(max_length=200)
    position = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    conditions = models.JSONField(default=dict, blank=True)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    warn_before_minutes = models.PositiveIntegerField(default=15)
    schedule = models.ForeignKey(BusinessSchedule, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="policies")
    escalation = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def target_minutes(self, metric: str) -> int | None:
        return {
            Metric.FIRST_RESPONSE: self.first_response_minutes,
            Metric.NEXT_RESPONSE: self.next_response_minutes,
            Metric.RESOLUTION: self.resolution_minutes,
        }[Metric(metric)]

    def __str__(self) -> str:
        return self.name


class TimerState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")


LIVE_STATES = (TimerState.RUNNING, TimerState.PAUSED)


class SlaTimer(WorkspaceScoped):
    """One target on one conversation. `due_at` is recomputed in business time whenever it resumes.

    A breach is recorded once (`breached_at`) and does not stop the timer: a late answer still fulfils it.
    """

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE,
                                     related_name="sla_timers")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="timers")
    metric = models.CharField(max_length=32, choices=Metric.choices)
    state = models.CharField(max_length=16, choices=TimerState.choices, default=TimerState.RUNNING)
    started_at = models.DateTimeField()
    target_seconds = models.PositiveIntegerField()
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    warn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    remaining_seconds = models.IntegerField(null=True, blank=True, help_text=_("Business seconds left at pause"))
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "metric"], condition=Q(state__in=["running", "paused"]),
                                    name="uniq_live_sla_timer"),
        ]
        indexes = [models.Index(fields=["state", "due_at"]), models.Index(fields=["state", "warn_at"])]

    def __str__(self) -> str:
        return f"{self.metric} on {self.conversation_id} ({self.state})"
