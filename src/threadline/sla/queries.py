"""Reads for schedules, policies and timers; `access_*` are the permission-checked lookups."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.conversations.models import Conversation
from threadline.core.errors import NotFound
from threadline.sla.models import BusinessSchedule, SlaPolicy, SlaTimer
from threadline.tenancy.models import Membership


def list_schedules(actor: Membership) -> QuerySet[BusinessSchedule]:
    return BusinessSchedule.objects.filter(workspace_id=actor.workspace_id)


def access_schedule(actor: Membership, schedule_id: int) -> BusinessSchedule:
    schedule = list_schedules(actor).filter(pk=schedule_id).first()
    if schedule is None:
        raise NotFound(_("No such schedule."), code="schedule_not_found")
    return schedule


def list_policies(actor: Membership) -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.filter(workspace_id=actor.workspace_id)


def access_policy(actor: Membership, policy_id: int) -> SlaPolicy:
    policy = list_policies(actor).filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(_("No such SLA policy."), code="policy_not_found")
    return policy


def timers_of(conversation: Conversation) -> QuerySet[SlaTimer]:
    """Every timer of a conversation, cancelled ones too (they explain a policy change), oldest first."""
    return SlaTimer.objects.filter(conversation=conversation).order_by("id")
