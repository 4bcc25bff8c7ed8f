"""Request and response shapes of /api/v1/language."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import Id


class LanguageDetectIn(Schema):
    text: str = Field(max_length=10_000)


class LanguageDetectOut(Schema):
    language: str = Field(description="Empty when not confident")
    confidence: float
    method: str = Field(description="script, model or none")
    languages: list[str] = Field(description="The workspace's languages detection chose among")


class LanguageCorrectionIn(Schema):
    language: str = Field(min_length=1, max_length=16)
    message_id: Id | None = Field(None, description="Also correct this message of the conversation")


class LanguageOut(Schema):
    conversation_id: int
    language: str
    message_id: int | None
    message_language: str | None
