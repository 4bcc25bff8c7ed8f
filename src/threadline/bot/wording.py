"""What the bot says, in the customer's language, and how it understands a request for a person.

Callers wrap these in `translation.override(<the customer's language>)`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.utils.translation import gettext as _

YES, NO, HANDOFF = "bot.yes", "bot.no", "bot.handoff"

# "talk to a person" as customers write it, per language (words; Thai has no spaces: phrases).
HANDOFF_WORDS = {
    "en": {"person", "agent", "human", "humans", "representative", "operator", "someone"},
    "he": {"נציג", "נציגה", "אדם", "אנושי", "סוכן", "מישהו", "בנאדם"},
    "fa": {"اپراتور", "پشتیبان", "انسان", "نماینده", "کارشناس", "آدم", "شخص"},
    "cs": {"člověk", "člověka", "člověkem", "operátor", "operátora", "operátorem", "agent", "agenta",
           "pracovník", "pracovníka", "osoba", "osobou", "osobu"},
}
HANDOFF_PHRASES = ("เจ้าหน้าที่", "พนักงาน", "คุยกับคน", "ขอคุยกับคน", "มนุษย์", "בן אדם")
HEBREW_PREFIXES = "הובלמשכ"
WORD = re.compile(r"\w+", re.UNICODE)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\u200c", "")).casefold()


def asks_for_person(text: str) -> bool:
    """True when the customer asks for a person, in any of the five languages (Hebrew one-letter prefixes,
    Persian zero-width non-joiners and Thai without spaces understood)."""
    text = _normal(text)
    if any(phrase in text for phrase in HANDOFF_PHRASES):
        return True
    words = set().union(*HANDOFF_WORDS.values())
    for token in WORD.findall(text):
        if token in words or (len(token) > 2 and token[0] in HEBREW_PREFIXES and token[1:] in words):
            return True
    return False


def choices_after_answer() -> list[dict[str, str]]:
    return [{"id": YES, "label": _("Yes, that helped")}, {"id": NO, "label": _("No")},
            {"id": HANDOFF, "label": _("Talk to a person")}]


def person_choice() -> list[dict[str, str]]:
    return [{"id": HANDOFF, "label": _("Talk to a person")}]


def absolute(path: str) -> str:
    """The article's link as a customer reads it: the public URL, with the path's letters shown as letters
    (an IRI: messaging apps and mail clients link it as is) rather than percent escapes."""
    path = unquote(path)
    return f"{settings.PUBLIC_URL.rstrip('/')}{path}" if path.startswith("/") else path


ANSWER_LENGTH = 1000  # within every channel's limit for a message with buttons (WhatsApp's body: 1,024)


def answer(hit: Any, greeting: str = "") -> str:
    """The greeting (first turn), the article's title, its snippet (shortened to fit) and link, the question."""
    head = [greeting, _("This article may answer your question:"), hit.title]
    tail = [absolute(hit.path) if hit.path else "", _("Did this answer your question?")]
    room = ANSWER_LENGTH - len("\n".join(line for line in head + tail if line)) - 1
    snippet = hit.snippet if len(hit.snippet) <= room else hit.snippet[:max(0, room - 1)].rstrip() + "…"
    return "\n".join(line for line in [*head, snippet if room > 1 else "", *tail] if line)


def email_answer(hits: list[Any]) -> str:
    lines = [_("Thank you for writing. While you wait, these articles may answer your question:"), ""]
    for hit in hits:
        lines.append(f"- {hit.title}: {absolute(hit.path)}" if hit.path else f"- {hit.title}")
    lines += ["", _("If they do not, just reply to this email to reach a person.")]
    return "\n".join(lines)


def not_found() -> str:
    return _("I could not find an answer to that.")


def glad() -> str:
    return _("Glad that helped! Write again any time.")


def sorry() -> str:
    return _("Sorry that did not help. You can ask in other words, or talk to a person.")


def handing_over(reason: str) -> str:
    if reason == "max_turns":
        return _("Let me pass you to a person; they will answer here in this conversation.")
    return _("I am passing your question to a person; they will answer here in this conversation.")


def away(when: str) -> str:
    return _("Our team is away now. A person will answer from %(when)s.") % {"when": when}
