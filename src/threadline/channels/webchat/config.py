"""A web chat channel's settings: look (brand color, title, greeting, position, language), the pre-chat form and
its fields, what happens when nobody is online, identity verification, the sites allowed to embed it, and the
email channel conversations continue on."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from threadline.core import crypto

LANGUAGES = ("en", "he", "fa", "th", "cs")


class WebchatConfig(BaseModel):
    secret: str = Field(default_factory=crypto.new_secret, min_length=16,
                        description="Identity verification key: the web app signs identity tokens with it (JWT, HS256)")
    identity_verification: bool = Field(
        default=True, description="identify() must carry a valid identity token; without it, identities are refused")
    title: str = Field(default="", max_length=100)
    greetings: dict[str, str] = Field(default_factory=dict, description="Greeting per language code")
    color: str = Field(default="#1d4ed8", pattern=r"^#[0-9a-fA-F]{6}$")
    position: Literal["right", "left"] = "right"
    language: str = Field(default="", description="Fixed widget language; empty follows the visitor's browser")
    prechat: Literal["off", "optional", "required"] = "off"
    prechat_fields: list[Literal["name", "email"]] = Field(
        default_factory=lambda: ["name", "email"], min_length=1, description="What the pre-chat form asks")
    offline: Literal["ask_email", "message", "hide"] = Field(
        default="ask_email", description="When no agent is online: ask for an email to answer by email, only say "
                                         "so (messages still arrive), or hide the chat button")
    offline_message: str = Field(default="", max_length=500, description="Said when no agent is online")
    allowed_origins: list[str] = Field(default_factory=list, description="Sites that may embed the widget")
    email_channel_id: int | None = Field(
        default=None, description="Email channel replies go out on while the visitor is away (default: first)")

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value and value not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)} or empty")
        return value

    @field_validator("greetings")
    @classmethod
    def _greetings(cls, value: dict[str, str]) -> dict[str, str]:
        if any(len(text) > 500 for text in value.values()):
            raise ValueError("a greeting is at most 500 characters")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
                raise ValueError(f"{origin!r} is not an origin such as https://shop.example")
        return [o.rstrip("/") for o in value]

    @field_validator("prechat_fields")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def text_color(self) -> str:
        """Black or white, whichever reads better on the brand color."""
        red, green, blue = (int(self.color[i:i + 2], 16) for i in (1, 3, 5))
        return "#111827" if (0.299 * red + 0.587 * green + 0.114 * blue) > 160 else "#ffffff"


def load(config: dict[str, object]) -> WebchatConfig:
    return WebchatConfig.model_validate(config)
