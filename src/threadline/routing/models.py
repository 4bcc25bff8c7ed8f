"""Who can take which conversation: agents' skills, capacity and presence; teams' policies; routing rules."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped

DEFAULT_CAPACITY = {"chat": 3, "email": 10}
EMAIL_KINDS = frozenset({"email"})


def capacity_class(channel_kind: str) -> str:
    """Capacity is counted per class of channel: email-like work, and live conversations ("chat")."""
    return "email" if channel_kind in EMAIL_KINDS else "chat"


def channel_kind_of(conversation: Any) -> str:
    """The kind of channel a conversation is on now: where the customer wrote last, else where it began."""
    channel = conversation.last_inbound_channel or conversation.origin_channel
    return channel.kind if channel else ""


class Presence(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentProfile(WorkspaceScoped):
    """An agent's routing attributes (one per Membership).

    `languages`: language codes the agent answers in. `skills`: free labels (product areas, channel kinds).
    `capacity`: open conversations at once per capacity class (`{"chat": 3, "email": 10}`); a class that
    is missing uses DEFAULT_CAPACITY.
    """

    membership = models.OneToOneField("tenancy.Membership", on_delete=models.CASCADE, related_name="routing_profile")
    presence = models.CharField(max_length=16, choices=Presence.choices, default=Presence.OFFLINE)
    presence_changed_at = models.DateTimeField(null=True, blank=True)
    languages = models.JSONField(default=list, blank=True)
    skills = models.JSONField(default=list, blank=True)
    capacity = models.JSONField(default=dict, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    def capacity_for(self, klass: str) -> int:
        return int({**DEFAULT_CAPACITY, **(self.capacity or {})}.get(klass, 0))

    def __str__(self) -> str:
        return f"routing profile of {self.membership_id}"


class PresenceInterval(WorkspaceScoped):
    """One stretch of an agent's presence: `status` from `started_at` until `ended_at` (None while it lasts).

    Written only by `do_set_presence`, in the same transaction as the change: the agent's open interval is
    closed at the instant the next one starts, so an agent's intervals never overlap. Analytics reads them for
    the time online and occupancy (docs/analytics.md).
    """

    membership = models.ForeignKey("tenancy.Membership", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Presence.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "started_at"], name="routing_presence_ws_start"),
                   models.Index(fields=["membership", "ended_at"], name="routing_presence_open")]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.status} from {self.started_at}"


class Policy(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    SKILLS = "skills", _("Skills-based (language first)")


class TeamPolicy(WorkspaceScoped):
    """How a team hands out its conversations, when it is open, and where work goes when nobody can take it.

    `overflow_team`: tried next when no member of this team can take a conversation now.
    `escalation_team`: told (and given the conversation) when the whole overflow chain is full or closed.
    `required_skills`: every assignee of this team must have them.
    """

    team = models.OneToOneField("tenancy.Team", on_delete=models.CASCADE, related_name="routing_policy")
    policy = models.CharField(max_length=16, choices=Policy.choices, default=Policy.ROUND_ROBIN)
    schedule = models.ForeignKey("sla.BusinessSchedule", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    overflow_team = models.ForeignKey("tenancy.Team", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    escalation_team = models.ForeignKey("tenancy.Team", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    required_skills = models.JSONField(default=list, blank=True)
    rr_cursor = models.BigIntegerField(default=0, help_text=_("The membership id assigned last (round robin)"))

    def __str__(self) -> str:
        return f"{self.policy} for team {self.team_id}"


class RoutingRule(WorkspaceScoped):
    """Sends matching new conversations to a team; the first rule (by position) that matches wins.

    `conditions`: `languages`, `channel_kinds`, `priorities`, `brand_ids` (lists; empty means any).
    `team_ids`: candidate teams in order; the first one open now takes it ("follow the sun"), else the first.
    """

    name = models.CharField(max_length=200)
    position = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    conditions = models.JSONField(default=dict, blank=True)
    team_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class RoutingDecision(WorkspaceScoped):
    """Why a conversation went where it went (shown to agents, counted by analytics)."""

    class Outcome(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        QUEUED = "queued", _("Queued for the team")
        ESCALATED = "escalated", _("Escalated")

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE,
                                     related_name="routing_decisions")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    team = models.ForeignKey("tenancy.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assignee = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    reason = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at"])]
