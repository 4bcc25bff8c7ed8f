"""Text analysis for search: the same pure functions at index time and at query time.

A text is cut into words on the original string (so highlighting can point back into it), Thai runs are
segmented into words (PyThaiNLP's dictionary-based `newmm`), and each word is normalised:
NFKC + casefold; Latin diacritics off ("Dvořáková" → "dvorakova"); Hebrew niqqud and cantillation off, final
letters folded (ם → מ); Arabic-script harakat and tatweel off, yeh/kaf/alef/heh variants folded to the Persian
forms (ي → ی, ك → ک, أ/إ/آ → ا); Persian/Arabic digits to ASCII; the zero-width non-joiner removed
("می‌کنم" = "میکنم").

Every word is indexed with its variants: a Hebrew word with one-letter prefixes (ו ה ב כ ל מ ש, and combinations
like "וה", "שב") also as the word without them ("ובהזמנה" → "בהזמנה", "הזמנה"), a Persian word written with a
zero-width non-joiner also as its parts ("می‌کنم" → "میکنم", "می", "کنم"). A query word matches any of its own
variants, so "ההזמנה" finds "הזמנה" and "הזמנה" finds "ובהזמנה".
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache, partial

MAX_TERM = 64  # longer "words" are encoded blobs, not words anyone searches for
ZWNJ = "\u200c"
_WORD = re.compile(  # letters and digits (not "_") with the marks and joiners that belong inside words
    r"(?:[^\W_]|[\u0300-\u036f\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640\u200c\u0e00-\u0e7f])+")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_LATIN_MARKS = re.compile(r"[\u0300-\u036f]")
_HEBREW_MARKS = re.compile(r"[\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7]")
_ARABIC_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]")
_FOLD = str.maketrans({
    # Hebrew final letters
    "ך": "כ", "ם": "מ", "ן": "נ", "ף": "פ", "ץ": "צ",
    # Arabic-script variants folded to the Persian forms
    "ي": "ی", "ى": "ی", "ئ": "ی", "ك": "ک", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "ۀ": "ه", "ة": "ه",
    # Latin letters without a decomposition
    "ł": "l", "đ": "d", "ø": "o", "ħ": "h", "ı": "i",
    ZWNJ: "",
    **{chr(0x06F0 + d): str(d) for d in range(10)}, **{chr(0x0660 + d): str(d) for d in range(10)},
})
HEBREW_PREFIXES = frozenset("והבכלמש")
MAX_PREFIX = 3
MIN_STEM = 3  # a Hebrew word keeps at least this many letters once its prefixes are stripped


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    term: str  # the normalised form
    variants: tuple[str, ...]  # the other forms it is indexed (and queried) under


def normalise(word: str) -> str:
    """One word's normalised form (no segmentation): the term stored in and looked up in the index."""
    text = unicodedata.normalize("NFKC", word).casefold()
    if not text.isascii():
        text = _HEBREW_MARKS.sub("", text)
        text = _ARABIC_MARKS.sub("", text)
        text = unicodedata.normalize("NFC", _LATIN_MARKS.sub("", unicodedata.normalize("NFD", text)))
        text = text.translate(_FOLD)
    return text


def has_thai(text: str) -> bool:
    return _THAI.search(text) is not None


def _is_hebrew(text: str) -> bool:
    return "\u05d0" <= text[0] <= "\u05ea"


def hebrew_stems(term: str) -> list[str]:
    """The forms of a Hebrew word without its one-letter prefixes ("ובהזמנה" → "בהזמנה", "הזמנה")."""
    stems = []
    for cut in range(1, MAX_PREFIX + 1):
        if len(term) - cut < MIN_STEM or term[cut - 1] not in HEBREW_PREFIXES:
            break
        stems.append(term[cut:])
    return stems


def _variants(raw: str, term: str) -> tuple[str, ...]:
    found: list[str] = []
    if _is_hebrew(term):
        found += hebrew_stems(term)
    if ZWNJ in raw:
        found += [p for p in (normalise(part) for part in raw.split(ZWNJ)) if p and p != term]
    return tuple(dict.fromkeys(v for v in found if v != term))


class SortedWords:
    """A word list that answers the one question `newmm` asks its dictionary: `prefixes(text, start)`, the
    words that begin at `start`, shortest first. PyThaiNLP's own Trie holds one Python object per letter
    (about 60 MiB for its 62,000 words, in every process, issue 11); the same words sorted in one tuple,
    searched with bisect, give the same answers for well under 1 MiB on top of the word set itself."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(sorted({w.strip() for w in words} - {""}))

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        at = bisect_left(self.words, word)
        return at < len(self.words) and self.words[at] == word

    def prefixes(self, text: str, start: int = 0) -> list[str]:
        found, low, words = [], 0, self.words
        for end in range(start + 1, len(text) + 1):
            piece = text[start:end]
            low = bisect_left(words, piece, low)  # the first word >= piece: the words it begins are from here
            if low == len(words) or not words[low].startswith(piece):
                break
            if words[low] == piece:
                found.append(piece)
        return found


@lru_cache(maxsize=1)
def _thai_tokenizer() -> Callable[[str], list[str]]:  # loading the dictionary takes ~1 s, once per process
    from pythainlp.corpus import thai_words
    from pythainlp.tokenize import word_tokenize

    dictionary = SortedWords(thai_words())
    return partial(word_tokenize, engine="newmm", keep_whitespace=True, custom_dict=dictionary)


def _pieces(text: str, start: int) -> list[tuple[int, int]]:
    """(start, end) of the words in one run of word characters; Thai runs are segmented."""
    if not _THAI.search(text):
        return [(start, start + len(text))]
    spans, at = [], start
    for piece in _thai_tokenizer()(text):
        if piece.strip():
            spans.append((at, at + len(piece)))
        at += len(piece)
    return spans


def words(text: str, *, containing: Collection[str] = ()) -> list[Word]:
    """The words of `text` with their positions in it, normalised, with their variants.

    With `containing` (normalised strings), a Thai run whose normalised text holds none of them is not segmented
    and gives no words: none of its words can equal or start with one of them (highlighting asks only for the
    words a query matched, and segmentation is most of its cost, issue 11)."""
    found = []
    for match in _WORD.finditer(text or ""):
        run = match.group()
        if containing and _THAI.search(run):
            folded = normalise(run)
            if not any(needle in folded for needle in containing):
                continue
        for start, end in _pieces(run, match.start()):
            raw = text[start:end]
            term = normalise(raw)
            if term and len(term) <= MAX_TERM and any(ch.isalnum() for ch in term):
                found.append(Word(start, end, term, _variants(raw, term)))
    return found


def index_text(text: str) -> str:
    """What the index stores for `text`: its terms and their variants, separated by spaces."""
    return " ".join(t for w in words(text) for t in (w.term, *w.variants))


def query_groups(query: str) -> list[tuple[str, ...]]:
    """One group per query word: a document matches when it holds every group, any form within a group."""
    groups: list[tuple[str, ...]] = []
    for word in words(query):
        group = (word.term, *word.variants)
        if group not in groups:
            groups.append(group)
    return groups


def terms_of(text: str) -> set[str]:
    """The distinct terms of `text` (with variants), as the typo-tolerance dictionary keeps them."""
    return {t for w in words(text) for t in (w.term, *w.variants)}
