"""The answer bot: its settings per workspace or channel, and one session per conversation it answers in."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from threadline.core import crypto
from threadline.core.models import WorkspaceScoped


class Mode(models.TextChoices):
    ANSWER_BOT = "answer_bot", _("Answer from the knowledge base")
    EXTERNAL = "external", _("External bot platform")


class BotSettings(WorkspaceScoped):
    """The bot of a workspace (`channel` empty: every channel without settings of its own) or of one channel.

    The external platform's config (credentials) is stored encrypted, like channel configs.
    """

    channel = models.OneToOneField("tl_channels.Channel", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="bot_settings")
    enabled = models.BooleanField(default=False)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.ANSWER_BOT)
    external_kind = models.CharField(max_length=32, blank=True)
    external_config_encrypted = models.TextField(blank=True)
    threshold = models.FloatField(default=0.35, help_text=_("The lowest article score the bot answers with (0..1)"))
    max_turns = models.PositiveSmallIntegerField(default=3)
    greeting = models.CharField(max_length=500, blank=True)
    languages = models.JSONField(default=list, blank=True, help_text=_("Empty: every language of the workspace"))
    schedule = models.ForeignKey("sla.BusinessSchedule", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text=_("The hours when people answer"))
    resolve_minutes = models.PositiveIntegerField(default=30)
    abandon_hours = models.PositiveIntegerField(default=24)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], condition=Q(channel__isnull=True),
                                               name="uniq_bot_settings_workspace")]

    @property
    def external_config(self) -> dict[str, Any]:
        return crypto.decrypt_json(self.external_config_encrypted) if self.external_config_encrypted else {}


class SessionState(models.TextChoices):
    ACTIVE = "active", _("Bot answering")
    HANDED_OVER = "handed_over", _("Handed over to a person")
    RESOLVED = "resolved", _("Resolved by the bot")
    ABANDONED = "abandoned", _("Abandoned")


class BotSession(WorkspaceScoped):
    """The bot's part of one conversation: its turns, the choices it offered last, and the outcome."""

    conversation = models.OneToOneField("conversations.Conversation", on_delete=models.CASCADE,
                                        related_name="bot_session")
    channel = models.ForeignKey("tl_channels.Channel", null=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=16, choices=SessionState.choices, default=SessionState.ACTIVE,
                             db_index=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.ANSWER_BOT)
    turns = models.PositiveSmallIntegerField(default=0)
    pending_choices = models.JSONField(default=list, blank=True)
    articles = models.JSONField(default=list, blank=True, help_text=_("Ids of the articles the bot answered with"))
    helped_at = models.DateTimeField(null=True, blank=True)
    last_bot_at = models.DateTimeField(null=True, blank=True)
    last_customer_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=32, blank=True)
    last_outbox_id = models.BigIntegerField(default=0, help_text=_("The last event handled (idempotency)"))
    external_state_encrypted = models.TextField(blank=True, help_text=_("An external platform's session (encrypted)"))

    @property
    def external_state(self) -> dict[str, Any]:
        return crypto.decrypt_json(self.external_state_encrypted) if self.external_state_encrypted else {}

    class Meta:
        indexes = [models.Index(fields=["workspace", "state", "ended_at"])]
