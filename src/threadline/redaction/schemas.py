"""Request and response shapes of the redaction API."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field

from threadline.conversations.schemas import MessageOut


class RedactIn(Schema):
    text: str | None = Field(None, description="A substring of the message to remove from every copy")
    attachment_id: int | None = Field(None, description="An attachment of the message to replace by a placeholder")


class RedactedOut(Schema):
    message: MessageOut
    copies: dict[str, int] = Field(description="How many stored copies changed, by kind")


class RedactionSettingsOut(Schema):
    redact_pii: bool = Field(description="Mask payment cards, IBANs and national identifiers on arrival")
    countries: list[str] = Field(description="ISO codes whose national identifiers are masked (empty: the "
                                             "workspace's default phone region)")
    effective_countries: list[str]


class RedactionSettingsPatch(Schema):
    redact_pii: bool | None = None
    countries: list[str] | None = Field(None, max_length=50)
