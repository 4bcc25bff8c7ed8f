"""/api/v1/social: public items (cursor paged, filtered), the actions on them (answer publicly, move to private,
hide, show, delete, do not answer, approve or discard a draft), and the workspace's settings and rules."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import page, paginate
from threadline.core.errors import NotFound
from threadline.core.schemas import Id
from threadline.social import actions, queries
from threadline.social.models import ActionKind, PublicAction, SocialRule
from threadline.social.schemas import (
    PublicItemDetailOut,
    PublicItemPage,
    PublicItemQuery,
    SocialActionOut,
    SocialReasonIn,
    SocialRuleIn,
    SocialRuleOut,
    SocialSettingsIn,
    SocialSettingsOut,
    SocialTextIn,
)
from threadline.tenancy.models import Membership, Team
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["social"])


@router.get("/items", response=responses(PublicItemPage), summary="List public items")
def list_items(request: HttpRequest, query: Query[PublicItemQuery]) -> dict[str, Any]:
    """Newest first; pass `next_cursor` as `cursor` for older ones. The channel's own posts are not listed."""
    rows, cursor = paginate(queries.list_items(
        actor(request), status=query.status, decision=query.decision, category=query.category,
        channel_id=query.channel_id, source=query.source, min_priority=query.min_priority),
        cursor=query.cursor, limit=query.limit)
    return page([queries.item_fields(row) for row in rows], cursor)


@router.get("/items/{item_id}", response=responses(PublicItemDetailOut), summary="One public item with its thread")
def get_item(request: HttpRequest, item_id: Id) -> dict[str, Any]:
    item = queries.access_item(actor(request), item_id)
    thread = queries.thread_of(item)
    return {**queries.item_fields(item), "above": [queries.item_fields(i) for i in thread["above"]],
            "below": [queries.item_fields(i) for i in thread["below"]], "actions": queries.actions_of(item)}


def _act(request: HttpRequest, item_id: int, do: Any) -> Status[PublicAction]:
    member = actor(request)
    require(member, Permission.REPLY)  # before the lookup: a role without it gets 403, never 404
    with transaction.atomic():
        action = do(member, queries.access_item(member, item_id))
    return Status(201, action)


@router.post("/items/{item_id}/reply", response=responses(SocialActionOut, 201), summary="Answer publicly")
def reply(request: HttpRequest, item_id: Id, payload: SocialTextIn) -> Status[PublicAction]:
    """Posted at once, or a draft when the workspace requires approval (`state` says which)."""
    return _act(request, item_id, lambda member, item: actions.do_reply_public(member, item, payload.text))


@router.post("/items/{item_id}/private", response=responses(SocialActionOut, 201), summary="Move to private")
def move_private(request: HttpRequest, item_id: Id, payload: SocialTextIn) -> Status[PublicAction]:
    """A private reply to the comment (Messenger, Instagram), else the public "write to us" answer."""
    return _act(request, item_id, lambda member, item: actions.do_move_private(member, item, payload.text))


@router.post("/items/{item_id}/hide", response=responses(SocialActionOut, 201), summary="Hide a public item")
def hide(request: HttpRequest, item_id: Id, payload: SocialReasonIn) -> Status[PublicAction]:
    return _act(request, item_id, lambda m, item: actions.do_moderate(m, item, ActionKind.HIDE, reason=payload.reason))


@router.post("/items/{item_id}/unhide", response=responses(SocialActionOut, 201), summary="Show a hidden item again")
def unhide(request: HttpRequest, item_id: Id, payload: SocialReasonIn) -> Status[PublicAction]:
    return _act(request, item_id, lambda m, item: actions.do_moderate(m, item, ActionKind.UNHIDE,
                                                                     reason=payload.reason))


@router.post("/items/{item_id}/delete", response=responses(SocialActionOut, 201), summary="Delete a public item")
def delete(request: HttpRequest, item_id: Id, payload: SocialReasonIn) -> Status[PublicAction]:
    return _act(request, item_id, lambda m, item: actions.do_moderate(m, item, ActionKind.DELETE,
                                                                     reason=payload.reason))


@router.post("/items/{item_id}/do-not-answer", response=responses(SocialActionOut, 201), summary="Do not answer")
def do_not_answer(request: HttpRequest, item_id: Id, payload: SocialReasonIn) -> Status[PublicAction]:
    return _act(request, item_id, lambda m, item: actions.do_not_answer(m, item, reason=payload.reason))


def _on_draft(request: HttpRequest, action_id: int, do: Any) -> PublicAction:
    member = actor(request)
    require(member, Permission.REPLY)  # before the lookup: a role without it gets 403, never 404
    with transaction.atomic():
        return do(member, queries.access_action(member, action_id))


@router.post("/actions/{action_id}/approve", response=responses(SocialActionOut), summary="Approve a draft reply")
def approve(request: HttpRequest, action_id: Id) -> PublicAction:
    """Another agent than the draft's author approves it; it is then posted."""
    return _on_draft(request, action_id, actions.do_approve)


@router.post("/actions/{action_id}/discard", response=responses(SocialActionOut), summary="Discard a draft reply")
def discard(request: HttpRequest, action_id: Id) -> PublicAction:
    return _on_draft(request, action_id, actions.do_discard)


@router.get("/settings", response=responses(SocialSettingsOut), summary="The public reply workflow's settings")
def get_settings(request: HttpRequest) -> Any:
    return queries.settings_of(actor(request))


@router.put("/settings", response=responses(SocialSettingsOut), summary="Change the public reply workflow's settings")
def put_settings(request: HttpRequest, payload: SocialSettingsIn) -> Any:
    with transaction.atomic():
        return actions.do_save_settings(actor(request), approval_required=payload.approval_required,
                                        private_invitation=payload.private_invitation)


@router.get("/rules", response=responses(list[SocialRuleOut]), summary="The rules that act on new public items")
def list_rules(request: HttpRequest) -> list[SocialRule]:
    return queries.rules_of(actor(request))


def _rule_fields(member: Membership, payload: SocialRuleIn) -> dict[str, Any]:
    team = None
    if payload.team_id is not None:
        team = Team.objects.filter(pk=payload.team_id, workspace_id=member.workspace_id).first()
        if team is None:
            raise NotFound(_("No such team."), code="team_not_found")
    return {**payload.model_dump(exclude={"team_id"}), "team": team}


@router.post("/rules", response=responses(SocialRuleOut, 201), summary="Add a rule")
def create_rule(request: HttpRequest, payload: SocialRuleIn) -> Status[SocialRule]:
    member = actor(request)
    queries.rules_of(member)  # the permission check before anything is looked up
    with transaction.atomic():
        return Status(201, actions.do_save_rule(member, None, _rule_fields(member, payload)))


@router.put("/rules/{rule_id}", response=responses(SocialRuleOut), summary="Change a rule")
def update_rule(request: HttpRequest, rule_id: Id, payload: SocialRuleIn) -> SocialRule:
    member = actor(request)
    rule = queries.access_rule(member, rule_id)
    with transaction.atomic():
        return actions.do_save_rule(member, rule, _rule_fields(member, payload))


@router.delete("/rules/{rule_id}", response=responses(None, 204), summary="Delete a rule")
def delete_rule(request: HttpRequest, rule_id: Id) -> Status[None]:
    member = actor(request)
    with transaction.atomic():
        actions.do_delete_rule(member, queries.access_rule(member, rule_id))
    return Status(204, None)
