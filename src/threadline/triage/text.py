"""A post's words and what they reveal before any judgement: lexicon matches (phrases, prefixes, the five
languages through search's analysis), links, @mentions and personal data shown in public."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from threadline.search.analysis import words

Pattern = tuple[tuple[str, bool], ...]  # (term, is_prefix) per word


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    forms: tuple[str, ...]  # the normalised word and its variants (Hebrew without prefixes, Persian parts)


@dataclass(frozen=True)
class Hit:
    first: int  # token index
    last: int
    entry: str  # the entry as written in the list


def tokens(text: str) -> list[Token]:
    return [Token(w.start, w.end, (w.term, *w.variants)) for w in words(text)]


def compile_entry(entry: str) -> Pattern:
    prefix = entry.rstrip().endswith("*")
    terms = [w.term for w in words(entry.replace("'", " "))]
    return tuple((term, prefix and at == len(terms) - 1) for at, term in enumerate(terms))


class Lexicon:
    """Entries matched on tokens: longest entry first at each position, no overlaps."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.patterns: list[tuple[Pattern, str]] = []
        for entry in dict.fromkeys(e.strip() for e in entries if e and e.strip()):
            pattern = compile_entry(entry)
            if pattern:
                self.patterns.append((pattern, entry))
        self.patterns.sort(key=lambda item: -len(item[0]))

    @staticmethod
    def _fits(pattern: Pattern, toks: list[Token], at: int) -> bool:
        if at + len(pattern) > len(toks):
            return False
        for (term, prefix), token in zip(pattern, toks[at:at + len(pattern)], strict=False):
            if not any(form.startswith(term) if prefix else form == term for form in token.forms):
                return False
        return True

    def find(self, toks: list[Token]) -> list[Hit]:
        hits, at = [], 0
        while at < len(toks):
            for pattern, entry in self.patterns:
                if self._fits(pattern, toks, at):
                    hits.append(Hit(at, at + len(pattern) - 1, entry))
                    at += len(pattern)
                    break
            else:
                at += 1
        return hits


LINK = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9-]{2,}\.(?:com|net|org|ru|xyz|io|ly|biz|info|top|click|shop|co)"
                  r"(?:/\S*)?\b", re.IGNORECASE)
MENTION = re.compile(r"(?<!\w)@\w+")
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
ORDER_WORDS = (r"order|ord|objedn\w*|č\.|cislo|číslo|הזמנה|הזמנתי|מספר|سفارش\w*|شماره|คำสั่งซื้อ|เลขที่|หมายเลข"
               r"|tracking|invoice|faktur\w*|ticket|case")
ORDER = re.compile(rf"#\s?\d{{3,}}\b|(?:{ORDER_WORDS})\W{{0,4}}(?:no\.?|n\.|num(?:ber)?|#)?\W{{0,3}}[A-Z]{{0,3}}\d{{4,}}",
                   re.IGNORECASE)
PHONE = re.compile(r"(?<![\w#])\+?\d(?:[\s().-]?\d){8,14}\b")
CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b|\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b")


def links(text: str) -> list[str]:
    """Links in the text (an email address's domain is not one)."""
    return [match.group().rstrip(".,!?)") for match in LINK.finditer(EMAIL.sub(" ", text))]


def personal_data(text: str) -> list[str]:
    """The kinds of personal data a public post shows: "order_number", "email", "phone", "card_number"."""
    kinds = []
    rest = text
    if EMAIL.search(rest):
        kinds.append("email")
        rest = EMAIL.sub(" ", rest)
    if CARD.search(rest) and sum(ch.isdigit() for ch in CARD.search(rest).group()) >= 13:
        kinds.append("card_number")
        rest = CARD.sub(" ", rest)
    if ORDER.search(rest):
        kinds.append("order_number")
        rest = ORDER.sub(" ", rest)
    if PHONE.search(rest):
        kinds.append("phone")
    return kinds


def mentions(text: str) -> list[str]:
    return MENTION.findall(text)
