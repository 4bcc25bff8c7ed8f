"""Writes for public items: receiving one (stored, triaged, rules applied, `social.item_received` published),
and the public reply workflow: answer in public (a draft a second agent approves when the workspace asks),
move to private, hide, show, delete, do not answer. The caller owns the transaction; provider calls run in
`tasks.perform_action_task` after commit; a private reply is a message of the item's conversation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.channels.base import InboundMessage, PublicItemEvent
from threadline.channels.models import Channel
from threadline.channels.registry import adapter_for
from threadline.conversations.actions import (
    check_text,
    do_update_conversation,
    queue_outbound,
    receive_inbound_message,
    record_event,
)
from threadline.conversations.models import AuthorKind, Conversation, Status
from threadline.core.errors import Conflict, PermissionDenied, ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.social import rules, triaging
from threadline.social.events import SocialItemReceived, SocialItemUpdated
from threadline.social.models import (
    ActionKind,
    ActionState,
    Category,
    Decision,
    ItemStatus,
    PublicAction,
    PublicItem,
    RuleAction,
    SocialRule,
    SocialSettings,
)
from threadline.tenancy.models import Membership, Team
from threadline.tenancy.permissions import Permission, require
from threadline.triage.reasons import reason_payload

MAX_PUBLIC_TEXT = 8000  # Facebook comments allow 8,000 characters, Instagram 2,200 (the provider says which)
PRIVATE_REPLY_WINDOW = dt.timedelta(days=7)  # Meta: a private reply within 7 days of the comment
PRIVATE_REPLY_KINDS = frozenset({"messenger", "instagram"})


# ── receiving ────────────────────────────────────────────────────────────────────────────────────────
def receive_public_item(channel: Channel, event: PublicItemEvent) -> PublicItem | None:
    """Store a public item once per (channel, source, external_id), or apply a change to it (edited,
    removed, hidden, shown). A new item from someone else than the channel's own account is triaged, the
    workspace's rules act on it, and `social.item_received` is published."""
    item = PublicItem.objects.filter(channel=channel, source=event.source, external_id=event.external_id).first()
    if event.action != "add" and item is not None:
        return _apply_change(item, event)
    if item is not None or event.action in ("remove", "hide", "unhide"):
        return item  # a duplicate, or a change to an item never seen: nothing to keep
    item = _store(channel, event)
    if item.own:  # our own post, or a reply written on the Page itself (outside Threadline)
        parent = item.parent
        if parent is not None and not parent.own and parent.status == ItemStatus.OPEN:
            _set_status(parent, ItemStatus.ANSWERED, "answered_elsewhere")
        return item
    verdict = triaging.verdict_for(channel, item)
    item.category, item.sentiment, item.priority = verdict.category, float(verdict.sentiment), int(verdict.priority)
    item.decision = verdict.decision
    item.reasons = reason_payload(verdict.reasons)  # re-rendered in each reader's language
    item.topics = [str(topic).lower() for topic in verdict.topics]
    item.save(update_fields=["category", "sentiment", "priority", "decision", "reasons", "topics", "updated_at"])
    publish(SocialItemReceived(
        workspace_id=item.workspace_id, item_id=item.pk, channel_kind=triaging.channel_kind(channel, item.source),
        category=item.category, sentiment=item.sentiment or 0.0, topics=list(item.topics),
        created_at=(item.posted_at or item.created_at).isoformat()))
    for rule, why in rules.matching(item):
        _apply_rule(item, rule, why)
    return item


def _store(channel: Channel, event: PublicItemEvent) -> PublicItem:
    parent = None
    if event.parent_external_id:
        parent = PublicItem.objects.filter(channel=channel, source=event.source,
                                           external_id=event.parent_external_id).first()
    contact = None if event.own else triaging.known_contact(
        channel.workspace_id, kind=event.author_kind, address=event.author_address, source=event.source,
        handle=event.author_handle)
    item = PublicItem.objects.create(
        workspace_id=channel.workspace_id, channel=channel, source=event.source[:32],
        external_id=event.external_id[:255], kind=event.kind[:16], parent=parent,
        parent_external_id=event.parent_external_id[:255], root_external_id=event.root_external_id[:255],
        author_kind=event.author_kind[:16], author_address=event.author_address[:320],
        author_handle=event.author_handle[:300], author_name=event.author_name[:300],
        author_reach=event.author_reach, text=event.text[:20_000], url=event.url[:1000],
        language=event.language[:16], posted_at=event.created_at or now(), own=event.own,
        status=ItemStatus.ANSWERED if event.own else ItemStatus.OPEN,
        contact=contact, known_customer=contact is not None,
    )
    # replies that arrived before this item (webhooks are not ordered) hang from it now
    PublicItem.objects.filter(channel=channel, source=item.source, parent_external_id=item.external_id,
                              parent__isnull=True).exclude(pk=item.pk).update(parent=item)
    return item


def _apply_change(item: PublicItem, event: PublicItemEvent) -> PublicItem:
    if event.action == "edited":
        item.text, item.edited_at = event.text[:20_000], event.created_at or now()
        item.save(update_fields=["text", "edited_at", "updated_at"])
    elif event.action == "remove":
        item.removed = True
        item.save(update_fields=["removed", "updated_at"])
    elif event.action in ("hide", "unhide"):
        item.hidden = event.action == "hide"
        item.save(update_fields=["hidden", "updated_at"])
    return item


def _apply_rule(item: PublicItem, rule: SocialRule, why: str) -> None:
    """One rule's action on a new item, recorded with its reason."""
    kind = {RuleAction.HIDE: ActionKind.HIDE, RuleAction.DELETE: ActionKind.DELETE, RuleAction.ROUTE: ActionKind.ROUTE,
            RuleAction.DO_NOT_ANSWER: ActionKind.DO_NOT_ANSWER}[RuleAction(rule.action)]
    if kind in (ActionKind.HIDE, ActionKind.DELETE) and not _can(item, kind):
        PublicAction.objects.create(workspace_id=item.workspace_id, item=item, kind=kind, rule=rule, reason=why,
                                    state=ActionState.FAILED, error=_("This channel cannot do that."))
        return
    action = PublicAction.objects.create(workspace_id=item.workspace_id, item=item, kind=kind, rule=rule,
                                         reason=why, state=ActionState.QUEUED)
    if kind == ActionKind.ROUTE:
        if rule.team is not None:
            route_to_team(item, rule.team)
        _done(action)
    elif kind == ActionKind.DO_NOT_ANSWER:
        _set_status(item, ItemStatus.IGNORED, kind)
        _done(action)
    else:
        _enqueue(action)


# ── the conversation a public item belongs to ────────────────────────────────────────────────────────
def link_conversation(item: PublicItem) -> Conversation:
    """The conversation of the item's author, where the item itself becomes the first inbound message (so
    the public comment and its private follow-up are one timeline). Idempotent."""
    if item.conversation_id is not None:
        return item.conversation
    kind, address = item.author_kind, item.author_address
    if not address:  # an author known only by handle (a listening source, an Instagram mention)
        kind, address = "external", triaging.handle_address(item.source, item.author_handle or item.external_id)
    message = receive_inbound_message(item.channel, InboundMessage(
        provider_message_id=f"public:{item.source}:{item.external_id}", sender_kind=kind, sender_address=address,
        sender_name=item.author_name or item.author_handle, sender_verified=bool(item.author_address),
        text=item.text or _("(a public item without text)"), sent_at=item.posted_at,
        metadata={"public_item": _reference(item)}))
    item.conversation, item.contact = message.conversation, message.conversation.contact
    item.save(update_fields=["conversation", "contact", "updated_at"])
    record_event(message.conversation, "social_linked", item_id=item.pk, source=item.source, url=item.url)
    return message.conversation


def _reference(item: PublicItem) -> dict[str, Any]:
    """What a message of the conversation keeps of the public item it is (or answers): shown on the timeline."""
    return {"id": item.pk, "source": item.source, "url": item.url, "kind": item.kind}


def route_to_team(item: PublicItem, team: Team) -> None:
    conversation = link_conversation(item)
    do_update_conversation(None, conversation, team=team)
    item.team = team
    item.save(update_fields=["team", "updated_at"])


# ── agents ───────────────────────────────────────────────────────────────────────────────────────────
def settings_for(workspace_id: int) -> SocialSettings:
    return SocialSettings.objects.filter(workspace_id=workspace_id).first() or SocialSettings(workspace_id=workspace_id)


def _can(item: PublicItem, kind: str) -> bool:
    adapter = adapter_for(item.channel.kind)
    method = {ActionKind.REPLY_PUBLIC: "public_reply", ActionKind.HIDE: "hide_public",
              ActionKind.UNHIDE: "hide_public", ActionKind.DELETE: "delete_public"}.get(kind)
    return method is None or hasattr(adapter, method)


def check_actionable(item: PublicItem, kind: str) -> None:
    if item.own:
        raise ValidationFailed(_("This is your own public reply."), code="own_item")
    if item.removed or item.status == ItemStatus.DELETED:
        raise ValidationFailed(_("This item was removed."), code="item_removed")
    if not _can(item, kind):
        raise ValidationFailed(_("This channel cannot do that with a public item."), code="not_supported")


def check_public_text(text: str) -> str:
    text = check_text(text)
    if len(text) > MAX_PUBLIC_TEXT:
        raise ValidationFailed(_("A public reply can be at most %(n)d characters.") % {"n": MAX_PUBLIC_TEXT},
                               code="text_too_long", field="text")
    return text


def do_reply_public(actor: Membership, item: PublicItem, text: str) -> PublicAction:
    """A public answer: posted after commit, or a draft when the workspace requires approval."""
    require(actor, Permission.REPLY)
    check_actionable(item, ActionKind.REPLY_PUBLIC)
    text = check_public_text(text)
    draft = settings_for(item.workspace_id).approval_required
    action = PublicAction.objects.create(
        workspace_id=item.workspace_id, item=item, kind=ActionKind.REPLY_PUBLIC, text=text, author=actor,
        state=ActionState.DRAFT if draft else ActionState.QUEUED)
    if not draft:
        _enqueue(action)
    return action


def check_draft(actor: Membership, action: PublicAction) -> None:
    require(actor, Permission.REPLY)
    if action.state != ActionState.DRAFT:
        raise Conflict(_("This reply is not waiting for approval."), code="not_a_draft")


def do_approve(actor: Membership, action: PublicAction) -> PublicAction:
    """A second agent approves a draft public reply, which is then posted; never its own author."""
    check_draft(actor, action)
    if action.author_id == actor.pk:
        raise PermissionDenied(_("Another agent must approve your public reply."), code="own_draft")
    check_actionable(action.item, action.kind)
    action.approved_by, action.state = actor, ActionState.QUEUED
    action.save(update_fields=["approved_by", "state", "updated_at"])
    _enqueue(action)
    return action


def do_discard(actor: Membership, action: PublicAction) -> PublicAction:
    """A draft public reply dropped (by its author or another agent): never posted."""
    check_draft(actor, action)
    action.state = ActionState.DISCARDED
    action.save(update_fields=["state", "updated_at"])
    return action


def do_move_private(actor: Membership, item: PublicItem, text: str = "") -> PublicAction:
    """Move to private: on Messenger and Instagram a private reply to the comment (one message, within 7
    days, threaded into the author's conversation); elsewhere the workspace's "please write to us" answer,
    in public (as a public reply, approved like one)."""
    require(actor, Permission.REPLY)
    check_actionable(item, ActionKind.REPLY_PRIVATE)
    if item.channel.kind not in PRIVATE_REPLY_KINDS or not item.author_address or item.kind == "post":
        invitation = (text or "").strip() or settings_for(item.workspace_id).private_invitation
        if not invitation:
            raise ValidationFailed(_("This item cannot get a private reply; write the public invitation to "
                                     "write to you privately."), code="no_private_reply", field="text")
        action = do_reply_public(actor, item, invitation)
        _set_status(item, ItemStatus.PRIVATE, ActionKind.REPLY_PRIVATE)
        return action
    text = check_public_text(text)
    if PublicAction.objects.filter(item=item, kind=ActionKind.REPLY_PRIVATE).exclude(
            state__in=[ActionState.FAILED, ActionState.DISCARDED]).exists():
        raise Conflict(_("This comment already got its private reply."), code="private_reply_sent")
    if item.posted_at and now() - item.posted_at > PRIVATE_REPLY_WINDOW:
        raise ValidationFailed(_("A private reply can only be sent within 7 days of the comment."),
                               code="private_reply_window")
    conversation = link_conversation(item)
    identity = conversation.contact.identities.filter(kind=item.author_kind, address=item.author_address).first()
    if identity is None:
        raise Conflict(_("The author's identity moved to another contact; open the conversation."),
                       code="identity_moved")
    message = queue_outbound(conversation, item.channel, identity, text, author_kind=AuthorKind.AGENT, author=actor,
                             metadata={"private_reply_to": item.external_id, "public_item": _reference(item)})
    if conversation.status == Status.NEW:
        do_update_conversation(None, conversation, status=Status.OPEN)
    action = PublicAction.objects.create(workspace_id=item.workspace_id, item=item, kind=ActionKind.REPLY_PRIVATE,
                                         text=text, author=actor, message=message, state=ActionState.DONE,
                                         done_at=now())
    record_event(conversation, "social_private_reply", actor=actor, item_id=item.pk, url=item.url)
    _set_status(item, ItemStatus.PRIVATE, ActionKind.REPLY_PRIVATE)
    return action


def do_moderate(actor: Membership, item: PublicItem, kind: str, *, reason: str = "") -> PublicAction:
    """Hide, show again or delete a public item at the provider (after commit)."""
    require(actor, Permission.REPLY)
    if kind not in (ActionKind.HIDE, ActionKind.UNHIDE, ActionKind.DELETE):
        raise ValidationFailed(_("Unknown action."), code="invalid_action", field="action")
    check_actionable(item, kind)
    action = PublicAction.objects.create(workspace_id=item.workspace_id, item=item, kind=kind, author=actor,
                                         reason=reason[:2000], state=ActionState.QUEUED)
    _enqueue(action)
    return action


def do_not_answer(actor: Membership, item: PublicItem, *, reason: str = "") -> PublicAction:
    require(actor, Permission.REPLY)
    if item.own:
        raise ValidationFailed(_("This is your own public reply."), code="own_item")
    action = PublicAction.objects.create(workspace_id=item.workspace_id, item=item, kind=ActionKind.DO_NOT_ANSWER,
                                         author=actor, reason=reason[:2000], state=ActionState.QUEUED)
    _set_status(item, ItemStatus.IGNORED, ActionKind.DO_NOT_ANSWER)
    _done(action)
    return action


# ── settings and rules (admins) ──────────────────────────────────────────────────────────────────────
def do_save_settings(actor: Membership, *, approval_required: bool, private_invitation: str) -> SocialSettings:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    if len(private_invitation) > 2000:
        raise ValidationFailed(_("The invitation is too long."), code="text_too_long", field="private_invitation")
    saved = settings_for(actor.workspace_id)
    saved.approval_required, saved.private_invitation = approval_required, private_invitation.strip()
    saved.save()
    record_change("social.settings_changed", saved, {"approval_required": approval_required}, actor=actor)
    return saved


def do_save_rule(actor: Membership, rule: SocialRule | None, fields: dict[str, Any]) -> SocialRule:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    rule = rule or SocialRule(workspace_id=actor.workspace_id)
    name = str(fields.get("name", "")).strip()
    if not name or len(name) > 200:
        raise ValidationFailed(_("A rule needs a name (at most 200 characters)."), code="invalid_name", field="name")
    if fields.get("action") not in RuleAction.values:
        raise ValidationFailed(_("Choose what the rule does."), code="invalid_action", field="action")
    team = fields.get("team")
    if fields["action"] == RuleAction.ROUTE and team is None:
        raise ValidationFailed(_("Choose the team to route to."), code="team_required", field="team_id")
    if team is not None and team.workspace_id != actor.workspace_id:
        raise ValidationFailed(_("No such team."), code="team_not_found", field="team_id")
    for field, allowed in (("category", Category.values), ("decision", Decision.values)):
        if fields.get(field) and fields[field] not in allowed:
            raise ValidationFailed(_("Choose one of the listed values."), code=f"invalid_{field}", field=field)
    rule.name, rule.action, rule.team = name, fields["action"], team
    rule.category, rule.decision = fields.get("category") or "", fields.get("decision") or ""
    rule.min_reach, rule.min_priority = fields.get("min_reach"), fields.get("min_priority")
    rule.topic = str(fields.get("topic") or "").strip().lower()[:100]
    rule.is_active, rule.position = bool(fields.get("is_active", True)), int(fields.get("position") or 0)
    created = rule.pk is None
    rule.save()
    record_change("social.rule_created" if created else "social.rule_changed", rule,
                  {"name": rule.name, "action": rule.action}, actor=actor)
    return rule


def do_delete_rule(actor: Membership, rule: SocialRule) -> None:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    record_change("social.rule_deleted", rule, {"name": rule.name}, actor=actor)
    rule.delete()


# ── shared ───────────────────────────────────────────────────────────────────────────────────────────
def _enqueue(action: PublicAction) -> None:
    from threadline.social.tasks import perform_action_task

    perform_action_task.enqueue(action.pk, unique_key=f"social-action:{action.pk}", fresh=True)


def _done(action: PublicAction) -> None:
    action.state, action.done_at = ActionState.DONE, now()
    action.save(update_fields=["state", "done_at", "updated_at"])


def _set_status(item: PublicItem, status: str, action: str) -> None:
    item.status = status
    item.save(update_fields=["status", "updated_at"])
    publish(SocialItemUpdated(workspace_id=item.workspace_id, item_id=item.pk, status=status, action=action))


def record_outcome(action: PublicAction, *, provider_id: str = "", error: str = "") -> None:
    """What the provider said about a queued action (tasks.py): done, with the item's new state, or failed."""
    item = action.item
    if error:
        action.state, action.error = ActionState.FAILED, error[:4000]
        action.save(update_fields=["state", "error", "updated_at"])
        return
    action.state, action.provider_id, action.done_at = ActionState.DONE, provider_id[:255], now()
    action.save(update_fields=["state", "provider_id", "done_at", "updated_at"])
    if action.kind == ActionKind.REPLY_PUBLIC:
        PublicItem.objects.get_or_create(
            channel=item.channel, source=item.source, external_id=provider_id[:255] or f"reply:{action.pk}",
            defaults={"workspace_id": item.workspace_id, "kind": "reply", "parent": item, "own": True,
                      "parent_external_id": item.external_id, "root_external_id": item.root_external_id,
                      "text": action.text, "status": ItemStatus.ANSWERED, "posted_at": now()})
        if item.status != ItemStatus.PRIVATE:
            _set_status(item, ItemStatus.ANSWERED, action.kind)
        if item.conversation_id:
            record_event(item.conversation, "social_public_reply", actor=action.author, item_id=item.pk,
                         text=action.text[:1000])
    elif action.kind in (ActionKind.HIDE, ActionKind.UNHIDE):
        item.hidden = action.kind == ActionKind.HIDE
        item.save(update_fields=["hidden", "updated_at"])
        _set_status(item, ItemStatus.HIDDEN if item.hidden else ItemStatus.OPEN, action.kind)
    elif action.kind == ActionKind.DELETE:
        _set_status(item, ItemStatus.DELETED, action.kind)
