"""Which language a short customer message is in, among the languages a workspace supports.

Two steps (research/ecosystem.md §3): the script decides when it can (Hebrew, Thai, Persian letters, kana,
Hangul); otherwise py3langid, restricted to the workspace's languages, decides when it is confident. Below
the threshold the answer is empty and the caller falls back (the contact's language, then the workspace's).
Pure functions; the model (4.6 MB, numpy only) loads once per process on first use (`language.identifier`).
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from dataclasses import dataclass

MIN_CONFIDENCE = 0.70
PERSIAN_LETTERS = set("پچژگکی")  # absent from Arabic orthography (ک/ی are Arabic ك/ي in Persian form)
ARABIC_LETTERS = set("كيةى")
SCRIPT_RANGES = (
    ("hebrew", 0x0590, 0x05FF),
    ("arabic", 0x0600, 0x06FF),
    ("arabic", 0x0750, 0x077F),
    ("arabic", 0xFB50, 0xFDFF),
    ("arabic", 0xFE70, 0xFEFF),
    ("thai", 0x0E00, 0x0E7F),
    ("cyrillic", 0x0400, 0x04FF),
    ("greek", 0x0370, 0x03FF),
    ("kana", 0x3040, 0x30FF),
    ("hangul", 0xAC00, 0xD7AF),
    ("han", 0x4E00, 0x9FFF),
    ("devanagari", 0x0900, 0x097F),
)
SINGLE_LANGUAGE_SCRIPTS = {"hebrew": "he", "thai": "th", "kana": "ja", "hangul": "ko", "greek": "el"}


@dataclass(frozen=True)
class Detection:
    language: str  # "" when undecided
    confidence: float
    method: str  # "script", "model" or "none"


def script_of(char: str) -> str:
    code = ord(char)
    for name, low, high in SCRIPT_RANGES:
        if low <= code <= high:
            return name
    return "latin" if char.isalpha() else ""


def dominant_script(text: str) -> tuple[str, float]:
    """The script of most letters, and its share of all letters."""
    counts = Counter(s for s in map(script_of, text) if s)
    if not counts:
        return "", 0.0
    script, n = counts.most_common(1)[0]
    return script, n / sum(counts.values())


@functools.lru_cache(maxsize=1)
def _base_identifier():  # noqa: ANN202 - py3langid has no type hints
    from django.conf import settings

    from threadline.language.identifier import load_identifier

    # py3langid's, its large arrays mapped from a cache in the data directory (same results, issue 11)
    return load_identifier(getattr(settings, "CACHE_DIR", None) if settings.configured else None, norm_probs=True)


@functools.lru_cache(maxsize=64)
def _identifier_for(languages: frozenset[str]):  # noqa: ANN202
    """A copy of the model restricted to `languages` (it shares the automaton, and has its own columns of the
    table)."""
    from threadline.language.identifier import restrict

    base = _base_identifier()
    known = [code for code in languages if code in base.labels]
    return restrict(base, known or None)


def supported(code: str) -> bool:
    return code in SINGLE_LANGUAGE_SCRIPTS.values() or code in _base_identifier().labels


def _arabic_script_language(text: str, allowed: frozenset[str]) -> Detection:
    persian = sum(ch in PERSIAN_LETTERS for ch in text)
    arabic = sum(ch in ARABIC_LETTERS for ch in text)
    if "fa" in allowed and (persian >= arabic or "ar" not in allowed):
        return Detection("fa", 0.95 if persian > arabic else 0.8, "script")
    for code in ("ar", "ur"):
        if code in allowed:
            return Detection(code, 0.8, "script")
    return Detection("", 0.0, "none")


def detect(text: str, languages: list[str] | tuple[str, ...] | frozenset[str]) -> Detection:
    """The language of `text` among `languages`, or an empty language when not confident."""
    allowed = frozenset(code for code in languages if code)
    text = unicodedata.normalize("NFC", text or "").strip()[:2000]
    if not text or not allowed:
        return Detection("", 0.0, "none")
    script, share = dominant_script(text)
    if not script:
        return Detection("", 0.0, "none")
    single = SINGLE_LANGUAGE_SCRIPTS.get(script)
    if single is not None:
        return Detection(single, round(0.9 + 0.1 * share, 3), "script") if single in allowed else Detection(
            "", 0.0, "none")
    if script == "arabic":
        return _arabic_script_language(text, allowed)
    if len(allowed) == 1:
        only = next(iter(allowed))
        return Detection(only, 0.5, "model") if only not in SINGLE_LANGUAGE_SCRIPTS.values() else Detection(
            "", 0.0, "none")
    candidates = frozenset(code for code in allowed if code not in {"he", "th", "fa", "ar", "ja", "ko"})
    if not candidates:
        return Detection("", 0.0, "none")
    language, confidence = _identifier_for(candidates).classify(text)
    if confidence < MIN_CONFIDENCE:
        return Detection("", round(float(confidence), 3), "none")
    return Detection(language, round(float(confidence), 3), "model")
