"""Reasons a verdict gives, as sentences: each a `Reason` (a `str` in the language active when it was made)
that also keeps its code and parameters, so a stored reason can be shown again in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "spam_link": _("Looks like spam: it links to %(links)s and uses promotional words (%(words)s)."),
    "spam_words": _("Looks like spam: promotional words (%(words)s)."),
    "spam_link_only": _("Looks like spam: a link (%(links)s) from someone who is not a customer, with nothing to answer."),
    "abuse": _("Abusive language (%(words)s): hide it; do not engage."),
    "troll": _("Trolling (%(words)s) with nothing to act on: answering would feed it."),
    "complaint": _("A complaint (%(words)s)."),
    "complaint_sentiment": _("A complaint: the tone is negative (%(words)s)."),
    "strong_language": _("Angry words (%(words)s), but there is a real problem to solve."),
    "question": _("A question (%(words)s)."),
    "praise": _("Praise (%(words)s)."),
    "noise": _("Nothing to act on: no question, complaint or praise."),
    "personal_data": _("It shows %(kinds)s in public: continue in private."),
    "account_topic": _("Solving it needs the customer's account or order details (%(topics)s): move to private."),
    "public_ack": _("Answer in public so others see the problem handled."),
    "public_answer": _("A public answer helps others with the same question."),
    "thanks": _("Praise worth a public thank-you."),
    "thanks_not_needed": _("Brief praise: a like is enough, no reply needed."),
    "reach": _("The author reaches %(reach)s people."),
    "known_customer": _("The author is a known customer."),
    "urgent": _("Urgent words: %(words)s."),
    "topic": _("Mentions %(topics)s."),
    "provider": _("Sentiment and category from %(provider)s."),
    "provider_fallback": _("%(provider)s could not be used (%(error)s): the built-in word lists decided."),
}
PERSONAL_KINDS = {
    "order_number": _("an order number"),
    "email": _("an email address"),
    "phone": _("a phone number"),
    "card_number": _("a card or account number"),
}

# The same msgids as social's choices, so one translation serves both.
CATEGORY_LABELS = {"question": _("Question"), "complaint": _("Complaint"), "praise": _("Praise"), "spam": _("Spam"),
                   "abuse": _("Abuse"), "noise": _("Noise")}
DECISION_LABELS = {"answer_public": _("Answer publicly"), "move_private": _("Move to private"), "hide": _("Hide"),
                   "do_not_answer": _("Do not answer")}


class Reason(str):
    """A sentence (the `str`) with the `code` and `params` it was made from."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, **params: Any) -> Reason:
        made = super().__new__(cls, render(code, params))
        made.code, made.params = code, params
        return made

    def __reduce__(self):  # pickling keeps the code, not only the text
        return (_rebuild, (self.code, self.params))


def _rebuild(code: str, params: dict[str, Any]) -> Reason:
    return Reason(code, **params)


def _text(key: str, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(key, v) for v in value)
    if key == "kinds" and value in PERSONAL_KINDS:
        return str(PERSONAL_KINDS[value])
    return str(value)


def render(code: str, params: dict[str, Any]) -> str:
    """The sentence for `code` in the active language."""
    message = MESSAGES.get(code)
    if message is None:
        return gettext("Unknown reason.")
    return str(message) % {key: _text(key, value) for key, value in params.items()}


def reason_payload(reasons: Iterable[str]) -> list[dict[str, Any]]:
    """What to store for a verdict's reasons (JSON): the code and parameters of each, or the text of a plain str."""
    return [{"code": r.code, "params": r.params} if isinstance(r, Reason) else {"text": str(r)} for r in reasons]


def render_reasons(payload: Iterable[dict[str, Any]]) -> list[str]:
    """Stored reasons (from `reason_payload`) as sentences in the active language."""
    return [render(item["code"], item.get("params", {})) if "code" in item else item.get("text", "")
            for item in payload]
