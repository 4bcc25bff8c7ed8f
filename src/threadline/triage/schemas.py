from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from threadline.core.schemas import Input


class TriageSettingsIn(Input):
    urgent_words: list[str] = Field(default_factory=list, max_length=200)
    topic_words: list[str] = Field(default_factory=list, max_length=200)
    spam_words: list[str] = Field(default_factory=list, max_length=200)
    abuse_words: list[str] = Field(default_factory=list, max_length=200)
    high_reach: int = Field(10_000, ge=1, le=1_000_000_000)
    praise_reach: int = Field(1_000, ge=0, le=1_000_000_000)
    complaint_below: float = Field(-0.25, ge=-1.0, le=0.0)
    praise_above: float = Field(0.3, ge=0.0, le=1.0)
    provider: str = Field("", description="`` (word lists only), `google` or `aws`")
    provider_config: dict[str, Any] = Field(default_factory=dict, description=(
        "google: api_key, base_url?, classify?; aws: access_key_id, secret_access_key, region, base_url?. "
        "A secret left empty keeps the stored one."))


class TriageSettingsOut(Schema):
    urgent_words: list[str]
    topic_words: list[str]
    spam_words: list[str]
    abuse_words: list[str]
    high_reach: int
    praise_reach: int
    complaint_below: float
    praise_above: float
    provider: str
    provider_config: dict[str, Any] = Field(description="The provider's fields, secrets shown as set or not")


class PreviewIn(Input):
    text: str = Field(max_length=10_000)
    language: str | None = Field(None, max_length=16)
    channel_kind: str = Field("social_api", max_length=32)
    author_handle: str = Field("", max_length=200)
    author_reach: int | None = Field(None, ge=0, le=10_000_000_000)
    known_customer: bool = False
    is_reply: bool = False


class TriageReasonOut(Schema):
    code: str
    text: str


class VerdictOut(Schema):
    category: str
    sentiment: float
    priority: int
    decision: str
    reasons: list[TriageReasonOut]
    topics: list[str]
