"""Request and response shapes of /api/v1/translation."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import Id


class TranslationUsageOut(Schema):
    month: dt.date
    characters: int = Field(description="Characters sent to the provider this month (UTC)")
    cached_characters: int = Field(description="Characters served from the cache this month")
    requests: int
    budget: int = Field(description="Characters a month; 0 means no limit")
    remaining: int | None = Field(description="Characters left this month; null without a limit")


class TranslationSettingsOut(Schema):
    provider: str = Field(description='"deepl", "google", "libretranslate" or "" (none)')
    base_url: str
    has_key: bool
    monthly_budget: int
    glossary_version: int
    usage: TranslationUsageOut


class TranslationSettingsIn(Schema):
    provider: str = Field(max_length=32, description='"deepl", "google", "libretranslate" or "" (none)')
    base_url: str = Field("", max_length=500, description="The provider's API root; empty: the provider's own")
    api_key: str | None = Field(None, max_length=500, description="null keeps the stored key, \"\" removes it")
    monthly_budget: int = Field(0, ge=0, le=10**12)


class GlossaryTermIn(Schema):
    term: str = Field(min_length=1, max_length=200)
    translations: dict[str, str] = Field(default_factory=dict,
                                         description="Language → what the term becomes; none: kept as it is")


class GlossaryTermOut(Schema):
    id: int
    term: str
    translations: dict[str, str]


class MessageTranslationOut(Schema):
    message_id: int
    source: str
    target: str
    text: str


class TranslationPreviewIn(Schema):
    text: str = Field(min_length=1, max_length=20_000, description="The reply, in the agent's language")


class TranslationPreviewOut(Schema):
    text: str
    translated: str = Field(description="What the customer gets")
    source: str
    target: str
    provider: str


class TranslatedReplyIn(TranslationPreviewIn):
    channel_id: Id | None = None


class TranslatedReplyOut(Schema):
    message_id: int
    status: str
    text: str = Field(description="As sent, in the customer's language")
    original: str
    language: str


class MachineDraftsIn(Schema):
    source_language: str = Field(min_length=2, max_length=16)


class MachineDraftOut(Schema):
    language: str
    translation_id: int
    state: str


class MachineDraftsOut(Schema):
    drafts: list[MachineDraftOut]
