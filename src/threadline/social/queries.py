"""Reads of the social domain: the public items an agent sees (conversations.view), one item with its thread
and actions, drafts waiting for approval, and the workspace's settings and rules (admins)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.core.errors import NotFound
from threadline.social.models import ActionState, PublicAction, PublicItem, SocialRule, SocialSettings
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require
from threadline.triage.reasons import render_reasons

WAITING = "waiting_approval"  # the filter for items with a draft public reply


def list_items(actor: Membership, *, status: str | None = None, decision: str | None = None,
               category: str | None = None, channel_id: int | None = None, source: str | None = None,
               min_priority: int | None = None) -> QuerySet[PublicItem]:
    """Public items of others (not the channel's own posts and replies), filtered; `status` may also be
    `waiting_approval` (a draft public reply waits on it)."""
    require(actor, Permission.VIEW)
    found = PublicItem.objects.filter(workspace_id=actor.workspace_id, own=False)
    if status == WAITING:
        found = found.filter(actions__state=ActionState.DRAFT).distinct()
    elif status:
        found = found.filter(status=status)
    if decision:
        found = found.filter(decision=decision)
    if category:
        found = found.filter(category=category)
    if channel_id is not None:
        found = found.filter(channel_id=channel_id)
    if source:
        found = found.filter(source=source)
    if min_priority is not None:
        found = found.filter(priority__gte=min_priority)
    return found.select_related("channel")


def access_item(actor: Membership, item_id: int) -> PublicItem:
    require(actor, Permission.VIEW)
    item = PublicItem.objects.select_related("channel").filter(pk=item_id, workspace_id=actor.workspace_id).first()
    if item is None:
        raise NotFound(_("No such public item."), code="item_not_found")
    return item


def access_action(actor: Membership, action_id: int) -> PublicAction:
    require(actor, Permission.VIEW)
    action = (PublicAction.objects.select_related("item__channel").filter(pk=action_id, workspace_id=actor.workspace_id)
              .first())
    if action is None:
        raise NotFound(_("No such action."), code="action_not_found")
    return action


def thread_of(item: PublicItem) -> dict[str, list[PublicItem]]:
    """The items above `item` (its post, the comment it answers), oldest first, and the replies under it."""
    above: list[PublicItem] = []
    seen = {item.pk}
    parent = item.parent
    while parent is not None and parent.pk not in seen and len(above) < 5:
        above.insert(0, parent)
        seen.add(parent.pk)
        parent = parent.parent
    below = list(PublicItem.objects.filter(parent=item).order_by("posted_at", "id")[:100])
    return {"above": above, "below": below}


def actions_of(item: PublicItem) -> list[PublicAction]:
    return list(item.actions.select_related("author__user", "approved_by__user", "rule", "message").order_by("id"))


def reasons_of(item: PublicItem) -> list[str]:
    """The verdict's reasons, in the reader's language."""
    return render_reasons(item.reasons or [])


def item_fields(item: PublicItem) -> dict[str, Any]:
    """One item as the API and the screens show it."""
    return {
        "id": item.pk, "channel_id": item.channel_id, "channel_kind": item.channel.kind, "source": item.source,
        "external_id": item.external_id, "kind": item.kind, "parent_id": item.parent_id, "url": item.url,
        "author": {"kind": item.author_kind, "id": item.author_address, "handle": item.author_handle,
                   "name": item.author_name, "reach": item.author_reach},
        "text": item.text, "language": item.language, "posted_at": item.posted_at, "edited_at": item.edited_at,
        "own": item.own, "hidden": item.hidden, "removed": item.removed, "status": item.status,
        "verdict": {"category": item.category, "sentiment": item.sentiment, "priority": item.priority,
                    "decision": item.decision, "reasons": reasons_of(item), "topics": list(item.topics or [])},
        "known_customer": item.known_customer, "contact_id": item.contact_id,
        "conversation_id": item.conversation_id, "team_id": item.team_id,
    }


def settings_of(actor: Membership) -> SocialSettings:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    return (SocialSettings.objects.filter(workspace_id=actor.workspace_id).first()
            or SocialSettings(workspace_id=actor.workspace_id))


def rules_of(actor: Membership) -> list[SocialRule]:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    return list(SocialRule.objects.filter(workspace_id=actor.workspace_id).select_related("team")
                .order_by("position", "id"))


def access_rule(actor: Membership, rule_id: int) -> SocialRule:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    rule = SocialRule.objects.filter(pk=rule_id, workspace_id=actor.workspace_id).first()
    if rule is None:
        raise NotFound(_("No such rule."), code="rule_not_found")
    return rule
