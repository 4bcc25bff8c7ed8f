"""A workspace's triage policy as the classifier reads it: its own keyword lists and thresholds on top of the
built-in lists (`lexicons.py`). The stored form is `models.TriageSettings`; this is the plain value."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_HIGH_REACH = 10_000
DEFAULT_PRAISE_REACH = 1_000
DEFAULT_COMPLAINT_BELOW = -0.25
DEFAULT_PRAISE_ABOVE = 0.3


@dataclass(frozen=True)
class Policy:
    urgent_words: tuple[str, ...] = ()  # raise priority ("outage", "lawsuit")
    topic_words: tuple[str, ...] = ()  # products and topics the team follows ("acme one", "checkout")
    spam_words: tuple[str, ...] = ()  # extra words that make a post spam
    abuse_words: tuple[str, ...] = ()  # extra words that make a post abusive
    high_reach: int = DEFAULT_HIGH_REACH  # followers from which an author's reach is named and weighs most
    praise_reach: int = DEFAULT_PRAISE_REACH  # praise from this reach up is worth a public thank-you
    complaint_below: float = DEFAULT_COMPLAINT_BELOW  # sentiment at or below which a post is a complaint
    praise_above: float = DEFAULT_PRAISE_ABOVE  # sentiment at or above which praise words make praise
    provider: dict = field(default_factory=dict, compare=False, hash=False)  # {"kind": ..., config} or {}
