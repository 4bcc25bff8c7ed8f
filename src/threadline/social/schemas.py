from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from threadline.core.schemas import Id, Input, PageQuery


class PublicItemQuery(PageQuery):
    status: str | None = Field(None, description="open, answered, private, hidden, deleted, ignored, or "
                                                 "waiting_approval (a draft public reply waits)")
    decision: str | None = Field(None, description="answer_public, move_private, hide, do_not_answer")
    category: str | None = Field(None, description="question, complaint, praise, spam, abuse, noise")
    channel_id: Id | None = None
    source: str | None = Field(None, max_length=32, description="facebook, instagram, x, youtube...")
    min_priority: int | None = Field(None, ge=0, le=100)


class SocialAuthorOut(Schema):
    kind: str
    id: str
    handle: str
    name: str
    reach: int | None


class SocialVerdictOut(Schema):
    category: str
    sentiment: float | None
    priority: int
    decision: str
    reasons: list[str]
    topics: list[str]


class PublicItemOut(Schema):
    id: int
    channel_id: int
    channel_kind: str
    source: str
    external_id: str
    kind: str
    parent_id: int | None
    url: str
    author: SocialAuthorOut
    text: str
    language: str
    posted_at: dt.datetime | None
    edited_at: dt.datetime | None
    own: bool
    hidden: bool
    removed: bool
    status: str
    verdict: SocialVerdictOut
    known_customer: bool
    contact_id: int | None
    conversation_id: int | None
    team_id: int | None


class PublicItemPage(Schema):
    items: list[PublicItemOut]
    next_cursor: str | None


class SocialActionOut(Schema):
    id: int
    item_id: int
    kind: str
    state: str
    text: str
    author_id: int | None
    approved_by_id: int | None
    rule_id: int | None
    reason: str
    provider_id: str
    error: str
    message_id: int | None
    created_at: dt.datetime
    done_at: dt.datetime | None


class PublicItemDetailOut(PublicItemOut):
    above: list[PublicItemOut]
    below: list[PublicItemOut]
    actions: list[SocialActionOut]


class SocialTextIn(Input):
    text: str = Field("", max_length=20_000)


class SocialReasonIn(Input):
    reason: str = Field("", max_length=2000)


class SocialSettingsIn(Input):
    approval_required: bool = False
    private_invitation: str = Field("", max_length=2000)


class SocialSettingsOut(Schema):
    approval_required: bool
    private_invitation: str


class SocialRuleIn(Input):
    # required, but checked by the action (after the permission check: a role without it gets 403, not 422)
    name: str = Field("", max_length=200)
    action: str = Field("", description="hide, delete, route, do_not_answer")
    team_id: Id | None = None
    category: str = Field("", max_length=16)
    decision: str = Field("", max_length=16)
    min_reach: int | None = Field(None, ge=0, le=2_000_000_000)
    min_priority: int | None = Field(None, ge=0, le=100)
    topic: str = Field("", max_length=100)
    is_active: bool = True
    position: int = Field(0, ge=0, le=10_000)


class SocialRuleOut(Schema):
    id: int
    name: str
    action: str
    team_id: int | None
    category: str
    decision: str
    min_reach: int | None
    min_priority: int | None
    topic: str
    is_active: bool
    position: int
