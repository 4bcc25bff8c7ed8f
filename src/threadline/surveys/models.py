"""Customer surveys: a definition per workspace and kind (CSAT, NPS, CES), one request per solved conversation
it was sent on, and the customer's answer."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Kind(models.TextChoices):
    CSAT = "csat", _("Customer satisfaction (CSAT, 1–5)")
    CES = "ces", _("Customer effort (CES, 1–7)")
    NPS = "nps", _("Net promoter score (NPS, 0–10)")


SCALES: dict[str, tuple[int, int]] = {Kind.CSAT: (1, 5), Kind.CES: (1, 7), Kind.NPS: (0, 10)}
ORDER = (Kind.CSAT, Kind.CES, Kind.NPS)  # which one a solved conversation gets when several are on


class Survey(WorkspaceScoped):
    """One kind of survey of a workspace. `wording` maps a language to the question (empty: the default
    question in that language); `channel_kinds` empty means every channel that can carry it."""

    kind = models.CharField(max_length=8, choices=Kind.choices)
    enabled = models.BooleanField(default=False)
    throttle_days = models.PositiveIntegerField(default=30)
    channel_kinds = models.JSONField(default=list, blank=True)
    wording = models.JSONField(default=dict, blank=True)
    # NPS only: every N days to each contact with activity in that time, run by the scheduler instead of after
    # every solved conversation; 0: after solved conversations like the other kinds.
    schedule_days = models.PositiveIntegerField(default=0)
    # WhatsApp outside its 24-hour window: an approved template of the number with quick-reply buttons,
    # {"name", "language", "scores": [score of button 1, of button 2, ...]}; {}: no survey outside the window.
    whatsapp_template = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "kind"], name="survey_kind_once")]


class Trigger(models.TextChoices):
    SOLVED = "solved", _("Conversation solved")
    SCHEDULE = "schedule", _("Schedule")
    CALL = "call", _("After a call")


class SurveyRequest(WorkspaceScoped):
    """A survey sent on a solved conversation (or on the NPS schedule, or after a call); pending until answered.
    `due_at` is set while it waits for the workspace's quiet hours to end (`message` is empty until then)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("tl_channels.Channel", null=True, on_delete=models.SET_NULL, related_name="+")
    message = models.ForeignKey("conversations.Message", null=True, on_delete=models.SET_NULL, related_name="+")
    by_text = models.BooleanField(default=False)  # offered as "reply with a number", not as buttons
    answered_at = models.DateTimeField(null=True, blank=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SOLVED)
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["contact", "answered_at"], name="survey_request_pending"),
                   models.Index(fields=["due_at"], name="survey_request_due")]


class SurveyResponse(WorkspaceScoped):
    """The customer's answer: a score on the kind's scale, an optional comment."""

    request = models.OneToOneField(SurveyRequest, on_delete=models.CASCADE, related_name="response")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("tl_channels.Channel", null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    score = models.SmallIntegerField()
    comment = models.TextField(blank=True)
    responded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["workspace", "responded_at"], name="survey_response_time")]


class SurveySettings(WorkspaceScoped):
    """A workspace's rules for every survey: quiet hours (a survey due inside them waits until they end), in
    the contact's time zone when known, else the workspace's. No quiet hours when start or end is empty."""

    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="survey_settings_once")]
