"""IVR flows: what an admin defines per number, and the pure decisions a call walks through.

A flow has an optional language choice, a greeting, business hours (outside them: voicemail or a callback
offer), and menus whose options (a DTMF digit and/or spoken keywords) queue the call to a team, open a
submenu, take a voicemail, offer a callback, say something, or hang up. Everything here is pure: given the
flow, the step and Twilio's parameters it decides; `twiml.py` renders the decision.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

Action = Literal["queue", "menu", "voicemail", "callback", "say", "hangup"]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Prompt(BaseModel):
    """Text per language code (`en-US`, `he-IL`...); the first one is the fallback."""

    texts: dict[str, str] = Field(min_length=1)

    def in_(self, language: str) -> str:
        return self.texts.get(language) or next(iter(self.texts.values()))


class Option(BaseModel):
    digit: str = Field(default="", pattern=r"^[0-9*#]?$")
    speech: list[str] = Field(default_factory=list, description="words that choose this option when spoken")
    action: Action
    team_id: int | None = None
    menu: str = ""
    say: Prompt | None = None

    @model_validator(mode="after")
    def _target(self) -> Option:
        if self.action == "queue" and self.team_id is None:
            raise ValueError("a queue option needs team_id")
        if self.action == "menu" and not self.menu:
            raise ValueError("a menu option needs the menu id")
        if not self.digit and not self.speech:
            raise ValueError("an option needs a digit or speech words")
        return self


class Menu(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    prompt: Prompt
    options: list[Option] = Field(min_length=1)


class LanguageChoice(BaseModel):
    digit: str = Field(pattern=r"^[0-9]$")
    code: str = Field(min_length=2, max_length=16)
    label: str = Field(min_length=1, description="said in that language: 'For English, press 1'")


class Hours(BaseModel):
    timezone: str = "UTC"
    weekly: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)
    closed_dates: list[dt.date] = Field(default_factory=list)
    closed_action: Literal["voicemail", "callback"] = "voicemail"
    closed_prompt: Prompt = Prompt(texts={"en-US": "We are closed right now."})

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zoneinfo.ZoneInfo(value)
        return value

    def is_open(self, at: dt.datetime) -> bool:
        local = at.astimezone(zoneinfo.ZoneInfo(self.timezone))
        if local.date() in self.closed_dates:
            return False
        now_hm = local.strftime("%H:%M")
        return any(start <= now_hm < end for start, end in self.weekly.get(DAYS[local.weekday()], []))


class Flow(BaseModel):
    languages: list[LanguageChoice] = Field(default_factory=list)
    greeting: Prompt = Prompt(texts={"en-US": "Thank you for calling."})
    hours: Hours | None = None
    menus: list[Menu] = Field(default_factory=list)
    voicemail_prompt: Prompt = Prompt(texts={"en-US": "Please leave a message after the tone."})
    voicemail_max_seconds: int = Field(default=120, ge=5, le=3600)
    transcribe: bool = True
    max_retries: int = Field(default=2, ge=0, le=5)

    @model_validator(mode="after")
    def _menus(self) -> Flow:
        ids = {m.id for m in self.menus}
        for menu in self.menus:
            for option in menu.options:
                if option.action == "menu" and option.menu not in ids:
                    raise ValueError(f"menu {menu.id} points to unknown menu {option.menu}")
        return self

    def menu(self, menu_id: str) -> Menu | None:
        return next((m for m in self.menus if m.id == menu_id), self.menus[0] if self.menus and not menu_id else None)

    def default_language(self) -> str:
        return self.languages[0].code if self.languages else next(iter(self.greeting.texts))

    def language_for(self, digits: str) -> str | None:
        return next((c.code for c in self.languages if c.digit == digits), None)


def choose(menu: Menu, digits: str, speech: str) -> Option | None:
    """The option a caller's key press or words select."""
    if digits:
        return next((o for o in menu.options if o.digit and o.digit == digits[:1]), None)
    said = speech.casefold()
    if said:
        return next((o for o in menu.options if any(w.casefold() in said for w in o.speech)), None)
    return None
