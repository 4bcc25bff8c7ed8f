"""What a panel app shows: a card of sections of labelled values, and actions. A custom app answers this
shape as JSON (validated: nothing but text and http(s) links reaches the page; the template escapes it all);
Shopify and WooCommerce are read into the same shape."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CardField(_Shape):
    label: str = Field(max_length=80)
    value: str = Field("", max_length=500)
    url: str | None = Field(None, max_length=2000)

    @field_validator("url")
    @classmethod
    def web_link(cls, url: str | None) -> str | None:
        return url if url and url.startswith(("https://", "http://")) else None


class CardSection(_Shape):
    title: str = Field("", max_length=120)
    fields: list[CardField] = Field(default_factory=list, max_length=30)


class CardAction(_Shape):
    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    label: str = Field(max_length=60)
    confirm: str = Field("", max_length=200)  # asked before running it ("Refund order #1001 in full?")


class Card(_Shape):
    title: str = Field("", max_length=120)
    sections: list[CardSection] = Field(default_factory=list, max_length=20)
    actions: list[CardAction] = Field(default_factory=list, max_length=20)


class ActionResult(_Shape):
    message: str = Field(max_length=500)
