"""Normalizing addresses and names: one person's address is always stored, and matched, the same way."""

from __future__ import annotations

import pytest

from threadline.contacts.identities import is_distinctive_name, match_key, name_key, normalize
from threadline.core.errors import ValidationFailed


@pytest.mark.parametrize(("address", "expected"), [
    ("Dana.Levi@Example.COM", "dana.levi@example.com"),
    ("  noa@shop.co.il ", "noa@shop.co.il"),
    ("Somchai.J+orders@Example.co.th", "somchai.j+orders@example.co.th"),
])
def test_emails_are_lower_cased(address, expected):
    assert normalize("email", address) == expected


@pytest.mark.parametrize("address", ["not-an-email", "dana@", "@example.com", "dana@@example.com"])
def test_invalid_emails_are_refused(address):
    with pytest.raises(ValidationFailed) as caught:
        normalize("email", address)
    assert caught.value.code == "invalid_email"


@pytest.mark.parametrize(("region", "address", "expected"), [
    ("IL", "052-555-1234", "+972525551234"),
    ("IL", "+972 52-555-1234", "+972525551234"),
    ("IL", "03-612-3456", "+97236123456"),
    ("US", "(650) 253-0000", "+16502530000"),
    ("US", "+1 650 253 0000", "+16502530000"),
    ("TH", "081 234 5678", "+66812345678"),
    ("TH", "02 123 4567", "+6621234567"),
    ("CZ", "601 123 456", "+420601123456"),
    ("CZ", "+420 601 123 456", "+420601123456"),
    ("IR", "0912 345 6789", "+989123456789"),
    ("IR", "021 8888 1234", "+982188881234"),
])
def test_phone_numbers_become_e164_in_the_workspace_region(region, address, expected):
    assert normalize("phone", address, region=region, strict=True) == expected


def test_a_local_number_means_different_numbers_in_different_regions():
    assert normalize("phone", "052-555-1234", region="IL") != normalize("phone", "052-555-1234", region="TH")


def test_whatsapp_ids_are_international_numbers_without_plus():
    assert normalize("whatsapp", "972525551234", region="US") == "+972525551234"
    assert normalize("whatsapp", "+66 81 234 5678", region="IL") == "+66812345678"


def test_strict_normalization_refuses_unassigned_numbers_that_a_provider_may_still_report():
    with pytest.raises(ValidationFailed) as caught:
        normalize("phone", "+1 555 555 5555", strict=True)
    assert caught.value.code == "invalid_phone"
    assert normalize("phone", "+1 555 555 5555") == "+15555555555"


@pytest.mark.parametrize(("kind", "address", "code"), [
    ("phone", "call me maybe", "invalid_phone"),
    ("phone", "12", "invalid_phone"),
    ("fax", "123", "invalid_kind"),
    ("telegram", "   ", "invalid_address"),
    ("external", "abc\x00def", "invalid_text"),
    ("external", "x" * 321, "too_long"),
])
def test_bad_addresses_are_refused_with_a_code(kind, address, code):
    with pytest.raises(ValidationFailed) as caught:
        normalize(kind, address, region="IL")
    assert caught.value.code == code


def test_other_ids_are_kept_as_sent_but_trimmed():
    assert normalize("telegram", " 123456789 ") == "123456789"
    assert normalize("visitor", "Visitor-AbC") == "Visitor-AbC"


@pytest.mark.parametrize(("one", "other"), [
    ("José  Núñez", "jose nunez"),
    ("Dana LEVI", "dana levi"),
    ("דָּנָה לֵוִי", "דנה לוי"),  # niqqud
    ("יעקב כהן", "יעקב כהנ"),  # a final letter written in its medial form
    ("علی‌رضا كريمي", "علیرضا کریمی"),  # ZWNJ, Arabic yeh and kaf vs Persian forms
    ("สมชาย\u200bใจดี", "สมชาย ใจดี"),  # a zero-width space separating Thai words
    ("Łukasz Żółw", "lukasz zolw"),
    ("O'Brien-Smith, Mary", "o brien smith mary"),
])
def test_name_keys_fold_case_diacritics_and_script_variants(one, other):
    assert name_key(one) == name_key(other)


def test_thai_vowel_and_tone_marks_are_part_of_the_name():
    assert name_key("สมชาย ใจดี") != name_key("สมชาย ใจด")
    assert name_key("ไก่ ไข่") != name_key("ไก ไข")


@pytest.mark.parametrize(("name", "distinctive"), [
    ("Dana Levi", True), ("Dana", False), ("דנה לוי", True), ("สมชาย", True), ("Support", False),
    ("12345 678", False), ("", False),
])
def test_only_distinctive_names_are_matched(name, distinctive):
    assert is_distinctive_name(name_key(name)) is distinctive


def test_match_keys():
    assert match_key("phone", "+972525551234") == match_key("whatsapp", "+66525551234") == "tel:525551234"
    assert match_key("email", "dana.levi+orders@shop.co.il") == match_key("email", "dana.levi@gmail.com")
    assert match_key("email", "info@shop.co.il") == ""
    assert match_key("email", "dana@shop.co.il") == ""
    assert match_key("telegram", "123456789") == ""
