"""What every source's records become before they are written: one shape for Zendesk, Freshdesk and Help Scout.

Sources turn the provider's documented JSON into these (`zendesk.py`, `freshdesk.py`, `helpscout.py`);
`actions.py` writes them. Ids are the provider's, as text. Datetimes are aware, exactly as the provider gave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Agent:
    id: str
    email: str
    name: str = ""
    role: str = "agent"  # our role: admin, agent, light_agent
    active: bool = True


@dataclass
class Organization:
    id: str
    name: str
    domains: list[str] = field(default_factory=list)


@dataclass
class Contact:
    id: str
    name: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    handles: dict[str, str] = field(default_factory=dict)  # {"twitter": "@x", "facebook": "id"}
    organization_id: str = ""
    organization_name: str = ""  # Help Scout names the organisation instead of linking one
    language: str = ""
    time_zone: str = ""
    verified: bool = False
    created_at: dt.datetime | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Attachment:
    id: str
    filename: str
    content_type: str
    size: int  # as the provider declares it; the stored size is what was downloaded
    url: str
    inline_data: bytes | None = None  # a provider that answers the bytes in JSON (Help Scout's `data`)


@dataclass
class Comment:
    id: str
    author_kind: str  # "agent", "contact" or "system"
    author_id: str
    text: str
    html: str
    public: bool
    created_at: dt.datetime
    attachments: list[Attachment] = field(default_factory=list)
    # A contact author who is not in the source's user list (deleted, or only named on the ticket)
    author_email: str = ""
    author_name: str = ""


@dataclass
class Ticket:
    id: str
    subject: str
    status: str  # ours: new/open/pending/on_hold/solved/closed
    priority: str  # ours: low/normal/high/urgent
    requester_id: str
    created_at: dt.datetime
    updated_at: dt.datetime
    solved_at: dt.datetime | None = None
    assignee_id: str = ""
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, tuple[str, Any]] = field(default_factory=dict)  # key → (label, value)
    comments: list[Comment] = field(default_factory=list)
    requester_email: str = ""
    requester_name: str = ""
    skipped_comments: list[tuple[str, str, str]] = field(default_factory=list)  # (id, code, reason)


@dataclass
class Rating:
    id: str
    ticket_id: str
    score: int  # CSAT, 1–5
    comment: str
    created_at: dt.datetime
    contact_id: str = ""


Record = Agent | Organization | Contact | Ticket | Rating


@dataclass
class Page:
    """One page of a stage: its records, the cursor to store once they are written, and whether the stage
    reached the end of the stream. `skipped` lists what the source itself could not read: (kind, id, code,
    reason)."""

    items: list[Any]
    cursor: str
    done: bool
    skipped: list[tuple[str, str, str, str]] = field(default_factory=list)


STAGES = ("agents", "organizations", "contacts", "tickets", "ratings")
KIND_OF_STAGE = {"agents": "agent", "organizations": "organization", "contacts": "contact", "tickets": "ticket",
                 "ratings": "rating"}


class SourceReader:
    """A provider's side of an import: `pages(stage, cursor)` yields `Page`s from `cursor` ('' = the start)
    until the stage is done; `download(attachment)` returns the bytes."""

    name: str = ""

    def pages(self, stage: str, cursor: str) -> Iterator[Page]:  # pragma: no cover - protocol
        raise NotImplementedError

    def download(self, attachment: Attachment) -> bytes:  # pragma: no cover - protocol
        raise NotImplementedError


def parse_time(value: Any) -> dt.datetime | None:
    """A provider's timestamp as an aware datetime, exactly: ISO 8601 with `Z` or an offset (Zendesk,
    Freshdesk), or without a zone (Help Scout's ratings, in UTC); None for empty."""
    if value in (None, ""):
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
