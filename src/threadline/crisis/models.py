"""Crisis detection's rows: the detector's state per series, the mentions it counted (the evidence, one per
`social.item_received` event: also what makes the subscriber idempotent), the crisis events, and the
workspace notice (banner) the widget and help center show."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class Series(WorkspaceScoped):
    """One series' detector state (`detector.SeriesState` as JSON): "all", "channel:<kind>", "topic:<topic>"."""

    key = models.CharField(max_length=128)
    state = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="crisis_series_once")]


class Mention(WorkspaceScoped):
    """A public item as the detector counted it."""

    outbox_id = models.BigIntegerField(unique=True)
    item_id = models.BigIntegerField()
    channel_kind = models.CharField(max_length=40, blank=True)
    category = models.CharField(max_length=16, blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    negative = models.BooleanField(default=False)
    keys = models.JSONField(default=list)
    posted_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["workspace", "posted_at"], name="crisis_mention_time")]


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Kind(models.TextChoices):
    VOLUME = "volume", _("Volume spike")
    NEGATIVE = "negative", _("Negative share spike")


class Crisis(WorkspaceScoped):
    """A crisis event: opened by the detector on one series (or by hand), closed when the series is calm again
    or by a person. `why` keeps the figures that opened it; `switched` what the team turned on."""

    key = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    bucket_start = models.DateTimeField()  # the time bucket whose figures opened it
    why = models.JSONField(default=dict)
    closed_why = models.CharField(max_length=32, blank=True)  # "calm" (the detector) or "person"
    closed_by = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    mentions = models.PositiveIntegerField(default=0)  # counted on its series while open
    holding_reply = models.ForeignKey("replies.Template", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    campaign_id = models.BigIntegerField(null=True, blank=True)  # outreach's known-issue draft, when made

    class Meta:
        indexes = [models.Index(fields=["workspace", "status", "key"], name="crisis_open_key")]


class Notice(WorkspaceScoped):
    """The workspace's notice shown as a banner in the chat widget and the help center while `active`:
    `texts` maps a language to its text (the workspace's default language is the fallback)."""

    texts = models.JSONField(default=dict)
    active = models.BooleanField(default=False)
    crisis = models.ForeignKey(Crisis, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="crisis_notice_once")]
