"""Finding personal identifiers in text: pure functions, no Django.

Detected (each match checked, not just shaped like one):
- payment cards: 13–19 digit runs (single spaces or dashes between digits allowed) starting 2–6, Luhn-valid;
- IBANs: country code, check digits and the country's length (spaces between characters allowed), mod-97 = 1;
- national identifiers, only for the countries asked for: Israel's ID number (`IL`, 9 digits, or 8 and a dash
  before the check digit, with its Luhn-style check digit), the Czech birth number (`CZ`, rodné číslo: YYMMDD
  then 3 or 4 digits, with or without a slash; a real date, women's month +50 and since 2004 +20/+70; 10
  digits divisible by 11 or the pre-1985 remainder-10 rule; 9 digits only for births before 1954), the US
  Social Security number (`US`, AAA-GG-SSSS with dashes or spaces; area 000, 666 and 900–999, group 00 and
  serial 0000 are never issued).

Digits are those of Latin, Arabic-Indic (٠-٩), Persian (۰-۹) and Thai (๐-๙) script alike. `mask` replaces
each finding with a marker that keeps what an agent needs to talk about it: the last four digits of a card
or IBAN (`[card ••••4242]`, `[IBAN ••••3000]`), nothing of a national identifier (`[ID number]`,
`[birth number]`, `[SSN]`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

DIGIT_SETS = ("0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "๐๑๒๓๔๕๖๗๘๙")
D = "[0-9\u0660-\u0669\u06f0-\u06f9\u0e50-\u0e59]"
TO_ASCII = str.maketrans({ch: str(value) for digits in DIGIT_SETS for value, ch in enumerate(digits)})
MASK_DOT = "••••"
COUNTRIES_WITH_IDS = ("CZ", "IL", "US")


def ascii_digits(text: str) -> str:
    return text.translate(TO_ASCII)


def only_digits(text: str) -> str:
    return "".join(ch for ch in ascii_digits(text) if ch.isascii() and ch.isdigit())


@dataclass(frozen=True)
class Finding:
    kind: str  # card / iban / il_id / cz_birth_number / us_ssn
    start: int
    end: int
    value: str  # the text as written

    @property
    def marker(self) -> str:
        if self.kind in ("card", "iban"):
            tail = [ch for ch in ascii_digits(self.value) if ch.isalnum()][-4:]
            return f"[{'card' if self.kind == 'card' else 'IBAN'} {MASK_DOT}{''.join(tail)}]"
        return MARKERS[self.kind]


MARKERS = {"il_id": "[ID number]", "cz_birth_number": "[birth number]", "us_ssn": "[SSN]"}


# ── checksums ──────────────────────────────────────────────────────────────────────────────────────
def luhn_valid(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    iban = iban.replace(" ", "").upper()
    length = IBAN_LENGTHS.get(iban[:2])
    if length is None or len(iban) != length or not iban[2:4].isdigit() or not iban.isalnum() or not iban.isascii():
        return False
    if not 2 <= int(iban[2:4]) <= 98:  # ISO 13616 check digits; 00, 01 and 99 would pass mod 97 but are never issued
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def israeli_id_valid(digits: str) -> bool:
    """Teudat Zehut: 9 digits (shorter ones are zero-padded), weights 1,2,1,2…, digit sums, total % 10 == 0."""
    if not digits.isdigit() or len(digits) > 9 or int(digits) == 0:
        return False
    total = 0
    for i, ch in enumerate(digits.zfill(9)):
        n = int(ch) * (1 if i % 2 == 0 else 2)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def czech_birth_number_valid(digits: str) -> bool:
    """Rodné číslo without its slash: 9 digits (births before 1954) or 10 (mod-11 rule)."""
    if not digits.isdigit() or len(digits) not in (9, 10):
        return False
    yy, mm, dd = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    if len(digits) == 9:
        if yy >= 54:  # nine-digit numbers were issued only to people born before 1954
            return False
        year = 1900 + yy
    else:
        year = (1900 if yy >= 54 else 2000) + yy
        head, check = int(digits[:9]), int(digits[9])
        remainder = head % 11
        if not (remainder == check or (remainder == 10 and check == 0)):
            return False
    if mm > 70:
        mm -= 70 if year >= 2004 else 1000
    elif mm > 50:
        mm -= 50
    elif mm > 20:
        mm -= 20 if year >= 2004 else 1000
    try:
        dt.date(year, mm, dd)
    except ValueError:
        return False
    return True


def us_ssn_valid(area: str, group: str, serial: str) -> bool:
    a = int(area)
    return not (a == 0 or a == 666 or a >= 900 or int(group) == 0 or int(serial) == 0)


# ── finders ────────────────────────────────────────────────────────────────────────────────────────
# A run is maximal: never a slice of a longer run of digits (and separators), nor part of an ASCII word (an
# id such as `CAB4242…@mail` in a Message-ID); other scripts may touch it (Thai writes no spaces).
_W = "(?<![A-Za-z_])"
_NOT_AFTER_RUN = rf"{_W}(?<!{D})(?<!{D}[ -])"
_NOT_BEFORE_RUN = rf"(?![ -]?{D})(?![A-Za-z_])"
CARD = re.compile(rf"{_NOT_AFTER_RUN}{D}(?:[ -]?{D}){{12,18}}{_NOT_BEFORE_RUN}")
IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})([0-9]{2})")
IL_ID = re.compile(rf"{_W}(?<!{D})(?<!{D}[-/])(?:{D}{{9}}|{D}{{8}}-{D})(?!-?{D})(?![A-Za-z_])")
CZ_BIRTH = re.compile(rf"{_W}(?<!{D})(?<!{D}[-/])({D}{{6}})/?({D}{{3,4}})(?![-/]?{D})(?![A-Za-z_])")
US_SSN = re.compile(rf"{_NOT_AFTER_RUN}({D}{{3}})([- ])({D}{{2}})\2({D}{{4}}){_NOT_BEFORE_RUN}")


def _cards(text: str) -> Iterable[Finding]:
    for m in CARD.finditer(text):
        digits = only_digits(m.group())
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits):
            yield Finding("card", m.start(), m.end(), m.group())


def _ibans(text: str) -> Iterable[Finding]:
    for m in IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(m.group(1).upper())
        if length is None:
            continue
        i, taken = m.end(), 4
        while taken < length and i < len(text):
            if text[i].isascii() and text[i].isalnum():
                taken, i = taken + 1, i + 1
            elif text[i] == " " and i + 1 < len(text) and text[i + 1].isascii() and text[i + 1].isalnum():
                i += 1
            else:
                break
        if taken == length and not (i < len(text) and text[i].isascii() and text[i].isalnum()):
            value = text[m.start():i]
            if iban_valid(value):
                yield Finding("iban", m.start(), i, value)


def _israeli_ids(text: str) -> Iterable[Finding]:
    for m in IL_ID.finditer(text):
        if israeli_id_valid(only_digits(m.group())):
            yield Finding("il_id", m.start(), m.end(), m.group())


def _czech_birth_numbers(text: str) -> Iterable[Finding]:
    for m in CZ_BIRTH.finditer(text):
        if czech_birth_number_valid(only_digits(m.group())):
            yield Finding("cz_birth_number", m.start(), m.end(), m.group())


def _us_ssns(text: str) -> Iterable[Finding]:
    for m in US_SSN.finditer(text):
        if us_ssn_valid(ascii_digits(m.group(1)), ascii_digits(m.group(3)), ascii_digits(m.group(4))):
            yield Finding("us_ssn", m.start(), m.end(), m.group())


NATIONAL = {"IL": _israeli_ids, "CZ": _czech_birth_numbers, "US": _us_ssns}


def find(text: str, countries: Iterable[str] = ()) -> list[Finding]:
    """Every finding in `text`, in order, without overlaps (the longer one wins, cards before IDs)."""
    found: list[Finding] = [*_cards(text), *_ibans(text)]
    for country in sorted({c.upper() for c in countries}):
        finder = NATIONAL.get(country)
        if finder is not None:
            found += finder(text)
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    for finding in found:
        if not kept or finding.start >= kept[-1].end:
            kept.append(finding)
    return kept


def mask(text: str, countries: Iterable[str] = ()) -> tuple[str, list[Finding]]:
    """`text` with every finding replaced by its marker, and the findings."""
    findings = find(text, countries)
    if not findings:
        return text, []
    parts, at = [], 0
    for finding in findings:
        parts += [text[at:finding.start], finding.marker]
        at = finding.end
    parts.append(text[at:])
    return "".join(parts), findings


# ISO 13616 lengths of the countries that issue IBANs (SWIFT's registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
    "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
