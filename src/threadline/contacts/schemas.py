"""Request and response shapes of /api/v1/contacts: contacts, identities, merges and merge suggestions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from threadline.contacts.models import Contact, ContactMerge, IdentityKind, MergeSuggestion
from threadline.contacts.suggestions import describe
from threadline.core.schemas import Id, Input, PageQuery

MAX_IDENTITIES = 20


# ── identities ───────────────────────────────────────────────────────────────────────────────────────
class IdentityIn(Input):
    kind: IdentityKind = Field(description="email, phone, whatsapp, telegram, line, messenger, instagram, wechat, "
                                           "visitor or external")
    address: str = Field(min_length=1, max_length=320,
                         description="Normalized on write: emails lower-cased, phone numbers to E.164 in the "
                                     "workspace's default region")
    verified: bool = False
    display_name: str = Field("", max_length=300)


class IdentityOut(Schema):
    id: int
    kind: str
    address: str
    verified: bool
    source: str
    display_name: str
    created_at: dt.datetime


# ── contacts ─────────────────────────────────────────────────────────────────────────────────────────
class ContactFields(Input):
    name: str = Field("", max_length=300)
    language: str = Field("", max_length=16, description="A language code such as `he` or `pt-BR`")
    time_zone: str = Field("", max_length=64, description="An IANA time zone such as `Asia/Bangkok`")
    country: str = Field("", max_length=2, description="ISO 3166 alpha-2")
    preferred_channel: str = Field("", max_length=32)
    consent: dict[str, bool] = Field(default_factory=dict, description="Consent flags, e.g. `{\"marketing\": false}`")
    attributes: dict[str, Any] = Field(default_factory=dict, description="Custom attributes (JSON)")


class ContactIn(ContactFields):
    identities: list[IdentityIn] = Field(default_factory=list, max_length=MAX_IDENTITIES)


class ContactPatch(Input):
    """Only the fields sent are changed."""

    name: str | None = Field(None, max_length=300)
    language: str | None = Field(None, max_length=16)
    time_zone: str | None = Field(None, max_length=64)
    country: str | None = Field(None, max_length=2)
    preferred_channel: str | None = Field(None, max_length=32)
    consent: dict[str, bool] | None = None
    attributes: dict[str, Any] | None = None


class ContactOut(Schema):
    id: int
    name: str
    language: str
    time_zone: str
    country: str
    preferred_channel: str
    consent: dict[str, Any]
    attributes: dict[str, Any]
    organization_id: int | None
    merged_into_id: int | None = Field(description="The contact this one was merged into, if it was")
    identities: list[IdentityOut]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_identities(obj: Contact) -> list[Any]:
        return sorted(obj.identities.all(), key=lambda identity: identity.pk)


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactQuery(PageQuery):
    q: str | None = Field(
        None, max_length=200,
        description="Search: part of the name (any case, any accents), or an address (normalized first, so a "
                    "local phone number finds its E.164 form)",
    )
    include_merged: bool = Field(False, description="Also list contacts merged into others")


# ── merges ───────────────────────────────────────────────────────────────────────────────────────────
class MergeIn(Input):
    source_id: Id = Field(description="The contact merged into this one (it keeps existing, marked as merged)")


class MovedOut(Schema):
    identities: int
    conversations: int
    messages: int


class MergeOut(Schema):
    id: int
    source_id: int
    target_id: int
    actor_id: int | None
    created_at: dt.datetime
    unmerged_at: dt.datetime | None
    unmerged_by_id: int | None
    moved: MovedOut

    @staticmethod
    def resolve_moved(obj: ContactMerge) -> dict[str, int]:
        snapshot = obj.snapshot or {}
        return {"identities": len(snapshot.get("identities", [])),
                "conversations": len(snapshot.get("conversations", [])),
                "messages": len(snapshot.get("messages", []))}


# ── suggestions ──────────────────────────────────────────────────────────────────────────────────────
class ReasonOut(Schema):
    code: str = Field(description="same_name, same_name_and_domain, same_organization, same_phone_number, "
                                  "same_national_number or same_email_local_part")
    message: str = Field(description="The reason in the request's language")
    params: dict[str, Any]


class SuggestionOut(Schema):
    id: int
    contact: ContactOut = Field(description="The newer contact")
    candidate: ContactOut = Field(description="The existing contact it may be")
    score: float = Field(description="0 to 1: how likely the two are one person")
    state: str
    reasons: list[ReasonOut]
    created_at: dt.datetime

    @staticmethod
    def resolve_reasons(obj: MergeSuggestion) -> list[dict[str, Any]]:
        return [{"code": str(r.get("code", "")), "message": describe(r), "params": r.get("params", {})}
                for r in obj.reasons]


class SuggestionQuery(Schema):
    state: MergeSuggestion.State = Field(MergeSuggestion.State.OPEN, description="open, accepted, dismissed or "
                                                                                  "superseded")


class AcceptQuery(Schema):
    target_id: Id | None = Field(None, description="Which of the two contacts remains (default: the existing one)")


class CustomFieldOut(Schema):
    """A workspace's own field: its values are under `key` in a contact's `attributes` or a conversation's
    `custom_fields`, checked by `kind` when written."""

    id: int
    key: str
    label: str
    kind: str = Field(description="text, number, date (YYYY-MM-DD) or select (one of `options`)")
    options: list[str]
    applies_to: str = Field(description="contact or conversation")


class CustomFieldIn(Input):
    key: str = Field(min_length=1, max_length=64, description="Lowercase letters, digits and _, starting with a letter")
    label: str = Field(min_length=1, max_length=200)
    kind: str = Field("text", description="text, number, date or select")
    applies_to: str = Field(description="contact or conversation")
    options: list[str] = Field(default_factory=list, max_length=100, description="The choices of a select field")
    position: int = Field(0, ge=-10_000, le=10_000)
