"""The triage contract other domains code against: a public post in, a verdict out.

`social` builds a `PublicPost` from a comment, mention or post it received and calls
`threadline.triage.triage_post(post)`; the `Verdict` says what the item is, how it feels, how urgent it is,
what to do with it, and why (each reason a human sentence; `str()` gives it in the active language, and
`threadline.triage.reasons.reason_payload` / `render_reasons` keep it re-translatable when stored).
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES = ("question", "complaint", "praise", "spam", "abuse", "noise")
DECISIONS = ("answer_public", "move_private", "hide", "do_not_answer")


@dataclass(frozen=True)
class PublicPost:
    workspace_id: int
    text: str
    language: str | None
    channel_kind: str  # e.g. "facebook", "instagram", "social_api"
    author_handle: str
    author_reach: int | None
    known_customer: bool
    is_reply: bool


@dataclass(frozen=True)
class Verdict:
    category: str  # "question" | "complaint" | "praise" | "spam" | "abuse" | "noise"
    sentiment: float  # -1.0 .. 1.0
    priority: int  # 0..100
    decision: str  # "answer_public" | "move_private" | "hide" | "do_not_answer"
    reasons: tuple[str, ...]  # human sentences (threadline.triage.reasons.Reason, a str)
    topics: tuple[str, ...]  # matched keywords/topics, lowercased
