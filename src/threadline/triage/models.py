"""A workspace's triage settings: its own keyword lists, thresholds, and the optional sentiment/classification
provider (its secrets encrypted at rest like channel configs)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped
from threadline.triage import policy as defaults


class Provider(models.TextChoices):
    NONE = "", _("None: the built-in word lists")
    GOOGLE = "google", _("Google Cloud Natural Language")
    AWS = "aws", _("Amazon Comprehend")


class TriageSettings(WorkspaceScoped):
    urgent_words = models.JSONField(default=list, blank=True)
    topic_words = models.JSONField(default=list, blank=True)
    spam_words = models.JSONField(default=list, blank=True)
    abuse_words = models.JSONField(default=list, blank=True)
    high_reach = models.PositiveIntegerField(default=defaults.DEFAULT_HIGH_REACH)
    praise_reach = models.PositiveIntegerField(default=defaults.DEFAULT_PRAISE_REACH)
    complaint_below = models.FloatField(default=defaults.DEFAULT_COMPLAINT_BELOW)
    praise_above = models.FloatField(default=defaults.DEFAULT_PRAISE_ABOVE)
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.NONE, blank=True)
    provider_config = models.TextField(blank=True, default="")  # core.crypto.encrypt_json of the provider's config

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="triage_settings_once")]
