"""Reads for routing; `access_*` are the permission-checked lookups."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.conversations.models import ACTIVE_STATUSES, Conversation
from threadline.core.errors import NotFound
from threadline.routing.models import RoutingDecision, RoutingRule
from threadline.tenancy.models import Membership


def list_rules(actor: Membership) -> QuerySet[RoutingRule]:
    return RoutingRule.objects.filter(workspace_id=actor.workspace_id)


def access_rule(actor: Membership, rule_id: int) -> RoutingRule:
    rule = list_rules(actor).filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("No such routing rule."), code="rule_not_found")
    return rule


def decisions_of(conversation: Conversation) -> QuerySet[RoutingDecision]:
    return RoutingDecision.objects.filter(conversation=conversation)


def open_assigned_count(membership: Membership) -> int:
    """How many active conversations are assigned to the agent: what deactivating them hands back to routing."""
    return Conversation.objects.filter(assignee=membership, status__in=ACTIVE_STATUSES).count()
