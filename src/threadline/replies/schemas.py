"""Request and response shapes of /api/v1/replies: templates with language variants, and macros."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from threadline.conversations.models import Priority, Status
from threadline.core.schemas import Id
from threadline.replies.models import Template


class TemplateVariantIn(Schema):
    language: str = Field(min_length=1, max_length=16)
    subject: str = Field("", max_length=500)
    text: str = Field(min_length=1, max_length=100_000,
                      description="Plain text with placeholders such as {{contact.first_name}}")
    html: str = Field("", max_length=200_000, description="Optional HTML for email; the text is used otherwise")


class TemplateVariantOut(Schema):
    language: str
    subject: str
    text: str
    html: str


class ReplyTemplateIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    kind: Template.Kind = Template.Kind.CANNED
    shortcut: str = Field("", max_length=64)
    is_active: bool = True
    variants: list[TemplateVariantIn] = Field(min_length=1, max_length=50)


class ReplyTemplateOut(Schema):
    id: int
    name: str
    kind: str
    shortcut: str
    is_active: bool
    variants: list[TemplateVariantOut]

    @staticmethod
    def resolve_variants(obj: Template) -> list[Any]:
        return sorted(obj.variants.all(), key=lambda v: v.language)


class TemplateRenderIn(Schema):
    conversation_id: Id
    channel_kind: str | None = Field(None, max_length=32, description="Render for this channel kind instead")


class TemplateRenderedOut(Schema):
    template_id: int
    language: str
    fallback: bool = Field(description="True when the conversation's language had no variant")
    subject: str
    text: str
    html: str


class MacroChangeIn(Schema):
    """One change: set_status/set_priority use `value`; add_tags/remove_tags `tags`; set_team `team_id`;
    assign `agent_id` (a membership id, or "me" in macros); unassign nothing."""

    type: Literal["set_status", "set_priority", "add_tags", "remove_tags", "set_team", "assign", "unassign"]
    value: Status | Priority | None = None
    tags: list[str] | None = Field(None, max_length=50)
    team_id: Id | None = None
    agent_id: Id | Literal["me"] | None = None


class MacroIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=500)
    actions: list[MacroChangeIn] = Field(default_factory=list, max_length=20)
    template_id: Id | None = Field(None, description="A reply sent with the macro, in the conversation's language")
    is_active: bool = True

    def fields(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["actions"] = [a.model_dump(mode="json", exclude_none=True) for a in self.actions]
        return data


class MacroOut(Schema):
    id: int
    name: str
    description: str
    actions: list[dict[str, Any]]
    template_id: int | None
    is_active: bool


class MacroApplyIn(Schema):
    conversation_id: Id


class MacroApplyOut(Schema):
    conversation_id: int
    message_id: int | None
    status: str
    priority: str
    tags: list[str]
