"""Request and response shapes of /api/v1 conversations, messages, the timeline and attachments."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AwareDatetime, Field, field_validator

from threadline.conversations.models import Attachment, Conversation, Message, Priority, Status
from threadline.conversations.queries import ASSIGNEE_ME, ASSIGNEE_NONE, ConversationFilters
from threadline.core.errors import ValidationFailed
from threadline.core.schemas import MAX_ID, Id, Input, PageQuery
from threadline.tenancy.models import Membership

MAX_TAGS = 50


# ── summaries of related rows ────────────────────────────────────────────────────────────────────────
class ConversationIdentityOut(Schema):
    kind: str
    address: str
    verified: bool


class ContactSummaryOut(Schema):
    id: int
    name: str
    language: str
    identities: list[ConversationIdentityOut]

    @staticmethod
    def resolve_identities(obj: Any) -> list[Any]:
        return list(obj.identities.all())


class AgentSummaryOut(Schema):
    id: int
    name: str
    email: str
    role: str

    @staticmethod
    def resolve_name(obj: Membership) -> str:
        return obj.user.name

    @staticmethod
    def resolve_email(obj: Membership) -> str:
        return obj.user.email


class TeamSummaryOut(Schema):
    id: int
    name: str


class ChannelSummaryOut(Schema):
    id: int
    kind: str
    name: str


# ── conversations ────────────────────────────────────────────────────────────────────────────────────
class ConversationOut(Schema):
    id: int
    subject: str
    status: str
    priority: str
    language: str
    contact: ContactSummaryOut
    assignee: AgentSummaryOut | None
    team: TeamSummaryOut | None
    tags: list[str]
    brand_id: int | None
    origin_channel: ChannelSummaryOut | None = Field(description="The channel the conversation began on")
    last_inbound_channel: ChannelSummaryOut | None = Field(description="The channel the customer wrote on last")
    custom_fields: dict[str, Any]
    sla_state: dict[str, Any] = Field(description="SLA targets, deadlines and breaches (see /api/v1/sla)")
    previous_id: int | None = Field(description="The earlier conversation of this contact this one follows")
    merged_into_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    last_message_at: dt.datetime | None
    last_inbound_at: dt.datetime | None
    first_response_at: dt.datetime | None
    solved_at: dt.datetime | None
    reopened_at: dt.datetime | None

    @staticmethod
    def resolve_tags(obj: Conversation) -> list[str]:
        return sorted(tag.name for tag in obj.tags.all())


class ConversationPage(Schema):
    items: list[ConversationOut]
    next_cursor: str | None


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
    return value


class ConversationQuery(PageQuery):
    status: list[Status] = Field(
        default_factory=list, description="One or more statuses (repeat the parameter or separate with commas)"
    )
    assignee: str | None = Field(
        None, max_length=20, description="An agent id, `none` (unassigned) or `me` (the token's agent)"
    )
    team: Id | None = None
    channel: Id | None = Field(None, description="Began on, or carries a message of, this channel")
    tag: str | None = Field(None, max_length=100)
    language: str | None = Field(None, max_length=16)
    contact: Id | None = None
    updated_since: AwareDatetime | None = Field(
        None, description="Only conversations updated at or after this moment (ISO 8601 with a time zone)"
    )

    _split_status = field_validator("status", mode="before")(_split_commas)

    @field_validator("assignee")
    @classmethod
    def _check_assignee(cls, value: str | None) -> str | None:
        if value is None or value in (ASSIGNEE_NONE, ASSIGNEE_ME):
            return value
        if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
            raise ValueError("must be an agent id, 'none' or 'me'")
        return value

    def filters(self) -> ConversationFilters:
        assignee: int | str | None = self.assignee
        if assignee is not None and assignee not in (ASSIGNEE_NONE, ASSIGNEE_ME):
            assignee = int(assignee)
        return ConversationFilters(
            statuses=tuple(str(s.value) for s in self.status), assignee=assignee, team_id=self.team,
            channel_id=self.channel, tag=self.tag, language=self.language, contact_id=self.contact,
            updated_since=self.updated_since,
        )


class ConversationPatch(Input):
    """Only the fields sent are changed; `assignee_id` or `team_id` null clears them."""

    status: Status | None = None
    priority: Priority | None = None
    assignee_id: Id | None = None
    team_id: Id | None = None
    tags: list[str] | None = Field(None, max_length=MAX_TAGS, description="The complete new set of tags")
    subject: str | None = Field(None, max_length=500)
    custom_fields: dict[str, str | int | float | None] | None = Field(
        None, max_length=200, description="Custom field values to change, by key (null or empty removes one); "
                                          "only the workspace's conversation fields, each checked by its type")

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(len(tag) > 100 for tag in value):
            raise ValueError("a tag is at most 100 characters")
        return value


class ConversationMergeIn(Input):
    into_id: Id = Field(description="The conversation that receives this one's messages")


class MoveIn(Input):
    conversation_id: Id = Field(description="The conversation that receives the message")


# ── messages ─────────────────────────────────────────────────────────────────────────────────────────
class AttachmentIn(Input):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field("application/octet-stream", max_length=127)
    content_base64: str

    def content(self) -> bytes:
        try:
            return base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed(
                _("%(name)s: content_base64 is not valid base64.") % {"name": self.filename},
                code="invalid_base64", field="attachments",
            ) from exc


class ReplyIn(Input):
    text: str = Field(min_length=1, max_length=100_000)
    html: str = Field("", max_length=500_000)
    channel_id: Id | None = Field(None, description="Defaults to the channel the customer wrote on last")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class NoteIn(Input):
    text: str = Field(min_length=1, max_length=100_000)


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str = Field(description="Where to download it (with the same bearer token)")

    @staticmethod
    def resolve_url(obj: Attachment) -> str:
        return f"/api/v1/attachments/{obj.pk}"


class RecipientOut(Schema):
    kind: str
    address: str


class MessageOut(Schema):
    id: int
    conversation_id: int
    direction: str = Field(description="`in` from the customer, `out` from an agent, bot or the system")
    author_kind: str
    author_agent: AgentSummaryOut | None
    author_contact_id: int | None
    channel: ChannelSummaryOut | None
    identity: RecipientOut | None = Field(description="The address it came from, or goes to")
    is_note: bool
    text: str
    html: str
    language: str
    status: str = Field(description="received, queued, sent, delivered, read or failed")
    status_reason: str = Field(description="Why it failed, when it did")
    delivery_attempts: int | None
    provider_message_id: str
    sent_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_author_agent(obj: Message) -> Membership | None:
        return obj.author_membership

    @staticmethod
    def resolve_attachments(obj: Message) -> list[Attachment]:
        return list(obj.attachments.all())

    @staticmethod
    def resolve_delivery_attempts(obj: Message) -> int | None:
        delivery = getattr(obj, "delivery", None)  # a reverse one-to-one: missing raises AttributeError
        return delivery.attempts if delivery is not None else None


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class EventOut(Schema):
    id: int
    kind: str
    actor_id: int | None
    data: dict[str, Any]
    created_at: dt.datetime


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None
