"""Keeping product terms through a provider that has no glossary for the pair: each term is swapped for a
numbered placeholder the engines leave alone (`⟦0⟧`), and the placeholder is swapped back afterwards for the
term, or for its mapping in the target language. Matching ignores case and needs no Latin letter or digit
right before or after the term (so "Pro" is not found inside "Product", and Thai text, written without spaces,
still finds "Threadline" in "ใช้Threadline")."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"⟦\s*(\d+)\s*⟧")


def _pattern(terms: list[str]) -> re.Pattern[str] | None:
    ordered = sorted({t for t in terms if t.strip()}, key=len, reverse=True)  # the longest term wins
    if not ordered:
        return None
    alternatives = "|".join(re.escape(t) for t in ordered)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE)


def protect(text: str, entries: dict[str, str]) -> tuple[str, list[str]]:
    """`text` with every glossary term replaced by a placeholder, and what each placeholder becomes."""
    pattern = _pattern(list(entries))
    if pattern is None or "⟦" in text:
        return text, []
    lowered = {k.lower(): v for k, v in entries.items()}
    replacements: list[str] = []

    def swap(match: re.Match[str]) -> str:
        found = match.group(0)
        target = lowered.get(found.lower(), found)
        replacements.append(found if not target or target.lower() == found.lower() else target)
        return f"⟦{len(replacements) - 1}⟧"

    return pattern.sub(swap, text), replacements


def restore(text: str, replacements: list[str]) -> str:
    """Placeholders back to their terms; one the engine dropped is added at the end, so no term is lost."""
    if not replacements:
        return text
    seen: set[int] = set()

    def back(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(replacements):
            return match.group(0)
        seen.add(index)
        return replacements[index]

    restored = PLACEHOLDER.sub(back, text)
    missing = [r for i, r in enumerate(replacements) if i not in seen]
    return f"{restored} ({', '.join(missing)})" if missing else restored
