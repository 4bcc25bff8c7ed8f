"""The detectors against python-stdnum (an independent implementation of each checksum) on generated numbers,
and real-looking messages in English, Hebrew, Persian, Thai and Czech."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban as std_iban
from stdnum import luhn as std_luhn
from stdnum.cz import rc as std_rc
from stdnum.il import idnr as std_idnr

from threadline.redaction import detectors
from threadline.redaction.detectors import DIGIT_SETS, IBAN_LENGTHS, find, mask

ALL = ("CZ", "IL", "US")
CHECKS = settings(deadline=None, max_examples=200)  # no timing: CI machines are shared and slow
digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
scripts = st.sampled_from(DIGIT_SETS)


def in_script(number: str, script: str) -> str:
    return number.translate(str.maketrans("0123456789", script))


def with_check(body: str) -> str:
    return body + std_luhn.calc_check_digit(body)


def mutate(number: str, position: int, delta: int) -> str:
    """`number` with one digit changed (a typo every checksum here detects)."""
    i = position % len(number)
    return number[:i] + str((int(number[i]) + delta) % 10) + number[i + 1:]


# ── payment cards ──────────────────────────────────────────────────────────────────────────────────
card_bodies = st.builds(lambda first, rest: first + rest, st.sampled_from("23456"),
                        st.text(alphabet="0123456789", min_size=11, max_size=17))


@CHECKS
@given(st.text(alphabet="0123456789", min_size=2, max_size=25))
def test_luhn_agrees_with_stdnum(number):
    assert detectors.luhn_valid(number) == std_luhn.is_valid(number)


@CHECKS
@given(card_bodies, st.integers(0, 30), st.integers(1, 9))
def test_a_typo_in_a_card_number_is_not_a_card(body, position, delta):
    number = with_check(body)
    assert detectors.luhn_valid(number)
    assert not detectors.luhn_valid(mutate(number, position, delta))


@CHECKS
@given(card_bodies, st.sampled_from(["", " ", "-"]), scripts, st.sampled_from(["Card: ", "כרטיס ", "کارت ", "บัตร", "karta "]))
def test_a_card_is_found_in_any_script_and_grouping_and_keeps_its_last_four(body, sep, script, prefix):
    number = with_check(body)
    grouped = sep.join(number[i:i + 4] for i in range(0, len(number), 4))
    text = f"{prefix}{in_script(grouped, script)}, thanks"
    masked, findings = mask(text)
    assert [f.kind for f in findings] == ["card"]
    assert masked == f"{prefix}[card ••••{number[-4:]}], thanks"


@CHECKS
@given(card_bodies)
def test_a_card_inside_a_longer_digit_run_is_not_found(body):
    number = with_check(body)
    assert all(f.value != number for f in find(f"order 1{number}9 shipped"))


# ── IBAN ───────────────────────────────────────────────────────────────────────────────────────────
@st.composite
def ibans(draw):
    country = draw(st.sampled_from(sorted(IBAN_LENGTHS)))
    bban = draw(st.text(alphabet="0123456789", min_size=IBAN_LENGTHS[country] - 4,
                        max_size=IBAN_LENGTHS[country] - 4))
    check = std_iban.calc_check_digits(f"{country}00{bban}")
    return f"{country}{check}{bban}"


@CHECKS
@given(ibans(), st.integers(0, 99))
def test_iban_check_digits_agree_with_stdnum(number, check):
    """stdnum also checks each country's BBAN layout; the checksum (ISO 7064 mod 97-10) is what both share."""
    written = f"{number[:2]}{check:02d}{number[4:]}"
    assert detectors.iban_valid(written) == (std_iban.calc_check_digits(f"{number[:2]}00{number[4:]}")
                                             == f"{check:02d}")


@CHECKS
@given(ibans(), st.integers(4, 40), st.integers(1, 9))
def test_a_typo_in_an_iban_is_not_an_iban(number, position, delta):
    position = 4 + position % (len(number) - 4)
    assert not detectors.iban_valid(mutate(number, position, delta))


@CHECKS
@given(ibans(), st.booleans())
def test_an_iban_is_found_grouped_or_not_and_keeps_its_last_four(number, grouped):
    written = " ".join(number[i:i + 4] for i in range(0, len(number), 4)) if grouped else number
    masked, findings = mask(f"Please refund to {written} ASAP")
    assert [f.kind for f in findings] == ["iban"]
    assert masked == f"Please refund to [IBAN ••••{number[-4:]}] ASAP"


# ── Israel's ID number ─────────────────────────────────────────────────────────────────────────────
@CHECKS
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_israeli_id_agrees_with_stdnum(number):
    assert detectors.israeli_id_valid(number) == std_idnr.is_valid(number)


@CHECKS
@given(st.text(alphabet="0123456789", min_size=8, max_size=8).filter(lambda s: int(s)), scripts, st.booleans())
def test_an_israeli_id_is_found_only_for_israel(body, script, dashed):
    number = body + std_luhn.calc_check_digit(body)  # Israel's check digit is Luhn's
    written = in_script(f"{number[:8]}-{number[8]}" if dashed else number, script)
    assert mask(f"מספר ת.ז. {written} בבקשה", ["IL"])[0] == "מספר ת.ז. [ID number] בבקשה"
    assert find(f"number {written}", ["US"]) == []


# ── Czech birth number ─────────────────────────────────────────────────────────────────────────────
dates = st.dates(min_value=dt.date(1954, 1, 1), max_value=dt.date(2025, 12, 31))


def birth_number(day: dt.date, woman: bool, serial: str, extra_month: bool) -> str:
    month = day.month + (50 if woman else 0) + (20 if extra_month and day.year >= 2004 else 0)
    head = f"{day.year % 100:02d}{month:02d}{day.day:02d}{serial}"
    return head + str(int(head) % 11 % 10)


@CHECKS
@given(dates, st.booleans(), st.text(alphabet="0123456789", min_size=3, max_size=3), st.booleans())
def test_generated_birth_numbers_are_valid_for_both(day, woman, serial, extra_month):
    number = birth_number(day, woman, serial, extra_month)
    assert std_rc.is_valid(number)
    assert detectors.czech_birth_number_valid(number)


def month_issued(number: str) -> bool:
    """The months the law allows: +50 for women, +20 (and +70) only since 2004; stdnum is laxer (`% 50 % 20`)."""
    yy, month = int(number[:2]), int(number[2:4])
    since_2004 = len(number) == 10 and 4 <= yy < 54
    return month % 50 in range(1, 13) or (since_2004 and month % 50 in range(21, 33))


@CHECKS
@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_czech_birth_number_agrees_with_stdnum(number):
    assert detectors.czech_birth_number_valid(number) == (std_rc.is_valid(number) and month_issued(number))


@CHECKS
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)),
       st.text(alphabet="0123456789", min_size=3, max_size=3))
def test_nine_digit_birth_numbers_only_before_1954(day, serial):
    number = f"{day.year % 100:02d}{day.month:02d}{day.day:02d}{serial}"
    assert detectors.czech_birth_number_valid(number) == (day.year < 1954)


@CHECKS
@given(dates, st.booleans(), st.text(alphabet="0123456789", min_size=3, max_size=3), st.booleans())
def test_a_birth_number_is_found_with_or_without_slash(day, woman, serial, slash):
    number = birth_number(day, woman, serial, False)
    written = f"{number[:6]}/{number[6:]}" if slash else number
    masked, findings = mask(f"Moje rodné číslo je {written}.", ["CZ"])
    assert masked == "Moje rodné číslo je [birth number]."
    assert find(f"Moje rodné číslo je {written}.", ["IL", "US"]) == [] or findings


# ── US Social Security number ──────────────────────────────────────────────────────────────────────
@CHECKS
@given(st.integers(0, 999), st.integers(0, 99), st.integers(0, 9999), st.sampled_from(["-", " "]))
def test_ssn_rules(area, group, serial, sep):
    text = f"my SSN is {area:03d}{sep}{group:02d}{sep}{serial:04d}."
    issued = area not in (0, 666) and area < 900 and group != 0 and serial != 0
    assert (mask(text, ["US"])[0] == "my SSN is [SSN].") == issued


# ── real-looking messages ──────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(("text", "countries", "expected"), [
    ("Hi, my card is 4111-1111-1111-1111, exp 12/27", ["US"], "Hi, my card is [card ••••1111], exp 12/27"),
    ("Amex 3782 822463 10005 please charge it", [], "Amex [card ••••0005] please charge it"),
    ("SSN 123-45-6789 and phone (415) 555-0132", ["US"], "SSN [SSN] and phone (415) 555-0132"),
    ("שלום, מספר תעודת הזהות שלי 000000018 והטלפון 050-1234567", ["IL"],
     "שלום, מספר תעודת הזהות שלי [ID number] והטלפון 050-1234567"),
    ("IBAN IL62 0108 0000 0009 9999 999 לזיכוי", ["IL"], "IBAN [IBAN ••••9999] לזיכוי"),
    ("شماره کارت من ۴۵۸۰-۴۵۸۰-۴۵۸۰-۴۵۸۰ است", [], "شماره کارت من [card ••••4580] است"),
    ("الرقم ٤١١١١١١١١١١١١١١١ شكرا", [], "الرقم [card ••••1111] شكرا"),
    ("หมายเลขบัตร ๕๕๕๕ ๕๕๕๕ ๕๕๕๕ ๔๔๔๔ ครับ", [], "หมายเลขบัตร [card ••••4444] ครับ"),
    ("Dobrý den, rodné číslo 736028/5163, účet CZ65 0800 0000 1920 0014 5399.", ["CZ"],
     "Dobrý den, rodné číslo [birth number], účet [IBAN ••••5399]."),
])
def test_real_looking_positives(text, countries, expected):
    assert mask(text, countries)[0] == expected


@pytest.mark.parametrize(("text", "countries"), [
    ("Order #4111111111111112 arrived", ALL),  # Luhn fails
    ("Tracking 1Z999AA10123456784 is late", ALL),  # UPS tracking, not a card
    ("Message-ID: <CAB4242424242424242@mail.example.com>", ALL),
    ("call me at +1 415 555 0132 or 0501234567", ALL),
    ("order 12345678901234567890123 shipped", ALL),  # too long for a card
    ("SSN-like 666-12-3456, 900-12-3456, 123-00-4567, 123-45-0000", ["US"]),
    ("שלום, 123456789 זה מספר ההזמנה", ["IL"]),  # check digit fails
    ("rodné číslo 736028/5164 je špatně", ["CZ"]),  # mod 11 fails
    ("narozen 991332/1234", ["CZ"]),  # month 13 is not a month
    ("IBAN CZ65 0800 0000 1920 0014 5398 (typo)", ALL),
    ("วันที่ ๑๒/๑๒/๒๕๖๙ เวลา ๑๐:๐๐", ALL),
    ("تاریخ ۱۴۰۵/۰۹/۱۲ ساعت ۱۰", ALL),
])
def test_real_looking_negatives(text, countries):
    assert find(text, countries) == []


def test_national_identifiers_follow_the_countries():
    text = "ssn 078-05-1120, ת.ז. 000000018, RČ 736028/5163"
    assert [f.kind for f in find(text, ["US"])] == ["us_ssn"]
    assert [f.kind for f in find(text, ["il"])] == ["il_id"]
    assert [f.kind for f in find(text, ["CZ"])] == ["cz_birth_number"]
    assert find(text, []) == []
