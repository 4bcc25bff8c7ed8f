"""Analytics facts: one row per conversation, per agent and day, per channel and day; derived, rebuildable.

Every fact is computed from the conversations, messages, timeline, SLA timers and outbox rows
(`analytics.facts`), never edited by hand: `threadline analytics rebuild` recomputes them all. Ids of channels,
brands, teams and members are plain integers (no foreign keys): a fact keeps describing the past after the
thing it names is deleted. Days are the workspace's local dates.
"""

from __future__ import annotations

from django.db import models


class ConversationFact(models.Model):
    conversation = models.OneToOneField("conversations.Conversation", primary_key=True, on_delete=models.CASCADE,
                                        related_name="+")
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    contact_id = models.BigIntegerField()
    origin_channel_id = models.BigIntegerField(null=True)
    channels_used = models.JSONField(default=list)  # sorted channel ids of its messages
    channel_count = models.PositiveSmallIntegerField(default=0)
    brand_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(null=True)
    language = models.CharField(max_length=16, blank=True)
    tags = models.JSONField(default=list)
    status = models.CharField(max_length=16)
    is_active = models.BooleanField(default=True)  # new, open, pending or on hold now
    first_assignee_id = models.BigIntegerField(null=True)
    last_assignee_id = models.BigIntegerField(null=True)
    assignee_count = models.PositiveSmallIntegerField(default=0)  # distinct members ever assigned
    created_at = models.DateTimeField()
    created_day = models.DateField()  # local dates and hour in the workspace's time zone
    created_week = models.DateField()  # the Monday of created_day's week
    created_hour = models.PositiveSmallIntegerField()
    first_response_at = models.DateTimeField(null=True)
    first_responder_id = models.BigIntegerField(null=True)
    first_response_seconds = models.BigIntegerField(null=True)
    first_response_business_seconds = models.BigIntegerField(null=True)
    next_response_seconds = models.JSONField(default=list)  # one per customer turn after the first answer
    resolutions = models.PositiveIntegerField(default=0)
    reopens = models.PositiveIntegerField(default=0)
    first_resolved_at = models.DateTimeField(null=True)
    last_resolved_at = models.DateTimeField(null=True)
    resolution_seconds = models.BigIntegerField(null=True)  # created → first resolution
    resolution_business_seconds = models.BigIntegerField(null=True)
    resolution_spans = models.JSONField(default=list)  # calendar seconds of each open span that ended resolved
    replies_before_resolution = models.PositiveIntegerField(default=0)  # agent replies before the first one
    messages_contact = models.PositiveIntegerField(default=0)
    messages_agent = models.PositiveIntegerField(default=0)
    messages_bot = models.PositiveIntegerField(default=0)
    bot_outcome = models.CharField(max_length=16, blank=True)  # resolved, handed_over, abandoned, or ""
    sla_policy_id = models.BigIntegerField(null=True)
    sla_first_response = models.CharField(max_length=16, blank=True)  # met, breached, running, or ""
    sla_resolution = models.CharField(max_length=16, blank=True)
    repeat_gap_seconds = models.BigIntegerField(null=True)  # until the contact's next conversation began
    explain_twice_gap_seconds = models.BigIntegerField(null=True)  # since an earlier one, still open, began
    # survey kind → {"sent": requests actually sent (not held by quiet hours), "scores": the answers' scores}
    surveys = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "created_day"], name="an_conv_day"),
            models.Index(fields=["workspace", "origin_channel_id", "created_day"], name="an_conv_channel"),
            models.Index(fields=["workspace", "brand_id", "created_day"], name="an_conv_brand"),
            models.Index(fields=["workspace", "team_id", "created_day"], name="an_conv_team"),
            models.Index(fields=["workspace", "last_assignee_id", "created_day"], name="an_conv_agent"),
            models.Index(fields=["workspace", "language", "created_day"], name="an_conv_language"),
            models.Index(fields=["workspace", "is_active", "created_at"], name="an_conv_backlog"),
            models.Index(fields=["workspace", "contact_id", "created_at"], name="an_conv_contact"),
        ]


class FactChannel(models.Model):
    """A channel a conversation used (the channel filter): one row per conversation and channel."""

    fact = models.ForeignKey(ConversationFact, on_delete=models.CASCADE, related_name="channel_rows")
    workspace_id = models.BigIntegerField()
    channel_id = models.BigIntegerField()
    created_day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["workspace_id", "channel_id", "created_day"], name="an_used_channel")]


class FactTag(models.Model):
    """A tag a conversation carries (the tag filter)."""

    fact = models.ForeignKey(ConversationFact, on_delete=models.CASCADE, related_name="tag_rows")
    workspace_id = models.BigIntegerField()
    tag = models.CharField(max_length=100)
    created_day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["workspace_id", "tag", "created_day"], name="an_tag")]


class AgentDayFact(models.Model):
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    agent_id = models.BigIntegerField()
    day = models.DateField()
    handled = models.PositiveIntegerField(default=0)  # conversations the agent replied in that day
    replies = models.PositiveIntegerField(default=0)
    first_responses = models.PositiveIntegerField(default=0)
    median_first_response_seconds = models.BigIntegerField(null=True)
    resolutions = models.PositiveIntegerField(default=0)
    online_seconds = models.BigIntegerField(default=0)  # time in presence "online" that local day
    busy_seconds = models.BigIntegerField(default=0)  # of it, with at least one open conversation assigned

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "day", "agent_id"], name="an_agent_day")]


class PresenceCursor(models.Model):
    """The last presence interval (routing.PresenceInterval id) whose days the refresh has recomputed: one row."""

    last_interval_id = models.BigIntegerField(default=0)


class ChannelDayFact(models.Model):
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    channel_id = models.BigIntegerField()
    day = models.DateField()
    new_conversations = models.PositiveIntegerField(default=0)
    inbound = models.PositiveIntegerField(default=0)
    outbound = models.PositiveIntegerField(default=0)
    unique_contacts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "day", "channel_id"], name="an_channel_day")]


class StaleConversation(models.Model):
    """A conversation whose facts an event made stale; the refresh task recomputes it and deletes the mark
    (unless it was marked again meanwhile: `marked_at` moved on)."""

    conversation_id = models.BigIntegerField(primary_key=True)
    workspace_id = models.BigIntegerField()
    marked_at = models.DateTimeField()


class StaleDay(models.Model):
    """A local day of a workspace whose facts the refresh must recompute: its agent and channel day facts
    (`activity`), its day rollups (`rollup`) or, `day` being the first of a month, that month's rollups
    (`month`). Marked in the transaction that made it stale (the conversation facts written, the day rows
    rolled up) and deleted in the one that recomputes it, unless marked again meanwhile (`marked_at` moved on):
    the refresh commits in short transactions, and a stop between two of them loses no day."""

    ACTIVITY, ROLLUP, MONTH = "activity", "rollup", "month"

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=8)
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "day", "kind"], name="analytics_staleday_unique")]


class BotOutcome(models.Model):
    """The last `bot.*` outcome of a conversation, from the events (the timeline does not keep them)."""

    conversation = models.OneToOneField("conversations.Conversation", primary_key=True, on_delete=models.CASCADE,
                                        related_name="+")
    workspace_id = models.BigIntegerField()
    outcome = models.CharField(max_length=16)
    outbox_id = models.BigIntegerField()


class DayRollup(models.Model):
    """The conversation facts created on one local day (`grain` "d") or in one local month ("m", `day` its
    first day), summed for one dimension value: every conversation (`dimension` ""), or those of one channel
    used, brand, team, last assignee, language or tag. Counts are exact; durations are histograms
    (`analytics.rollups`). Rebuilt from the facts by the refresh for the days it touched."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    grain = models.CharField(max_length=1)  # d: a day, m: a month
    dimension = models.CharField(max_length=10, blank=True)  # "", channel, brand, team, agent, language, tag
    value = models.CharField(max_length=100, blank=True)
    day = models.DateField()
    conversations = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)  # resolved, reopened, first_contact, switched, bot outcomes …
    volume = models.JSONField(default=dict)  # origin channel id ("" none) → 24 counts by local hour
    repeat = models.JSONField(default=dict)  # ceil(repeat gap in days) → count, up to GAP_DAYS
    explain = models.JSONField(default=dict)  # ceil(explain-twice gap in days) → count
    first_response = models.JSONField(default=dict)  # histogram bucket → count
    first_response_business = models.JSONField(default=dict)
    next_response = models.JSONField(default=dict)
    resolution = models.JSONField(default=dict)
    resolution_business = models.JSONField(default=dict)
    sla = models.JSONField(default=dict)  # policy id → [fr met, fr breached, res met, res breached]
    agents = models.JSONField(default=dict)  # last assignee id → [handled, resolved, CSAT answers, satisfied]
    responders = models.JSONField(default=dict)  # first responder id → histogram of first response seconds
    surveys = models.JSONField(default=dict)  # survey kind → {"sent": n, "scores": {score: answers}}

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "grain", "dimension", "value", "day"],
                                               name="an_rollup")]


class AlertRule(models.Model):
    """A threshold on one single-figure metric (`analytics.alerts.METRICS`), evaluated every 5 minutes; it fires
    once when the figure crosses the threshold (state `firing`, `fired_at`) and clears when it is back. Unlike
    the facts, a rule is configuration: created, changed and deleted by admins, audited."""

    class State(models.TextChoices):
        CLEAR = "clear"
        FIRING = "firing"

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    metric = models.CharField(max_length=32)
    comparison = models.CharField(max_length=8)  # above, below
    threshold = models.FloatField()  # in the metric's unit: a count, a percent or minutes
    window_days = models.PositiveSmallIntegerField(default=1)  # 1: today (local); N: the last N local days
    window_hours = models.PositiveSmallIntegerField(default=0)  # N > 0: the last N hours instead of days
    channel_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    recipient_ids = models.JSONField(default=list)  # membership ids holding analytics.view
    enabled = models.BooleanField(default=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.CLEAR)
    last_value = models.FloatField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "enabled"], name="an_alert_enabled")]


class ReportSchedule(models.Model):
    """A report mailed to chosen people: daily, or weekly on a weekday, at a local hour of the workspace's time
    zone, with the overview's figures for the period that just ended (`analytics.report_mail`). `last_slot` is
    the local date of the last slot sent: each slot is sent once."""

    class Frequency(models.TextChoices):
        DAILY = "daily"
        WEEKLY = "weekly"

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY)
    weekday = models.PositiveSmallIntegerField(default=0)  # Monday 0 … Sunday 6 (weekly)
    hour = models.PositiveSmallIntegerField(default=8)  # local hour 0–23
    channel_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    recipient_ids = models.JSONField(default=list)  # membership ids holding analytics.view
    enabled = models.BooleanField(default=True)
    last_slot = models.DateField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
