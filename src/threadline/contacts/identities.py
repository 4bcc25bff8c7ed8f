"""Normalizing identity addresses and names, so one person's address is always stored (and matched) the same way.

- `normalize(kind, address)`: the canonical, unique form of an identity: emails lower-cased and validated,
  phone numbers (and WhatsApp ids) in E.164 read with the workspace's default region, other ids trimmed.
- `match_key(kind, address)`: what two *different* identities of one person may share (a phone's national
  significant number, an email's local part without a `+tag`), indexed so suggestions are one lookup.
- `name_key(name)`: a display name folded for matching: case, diacritics, Hebrew niqqud and final letters,
  Arabic/Persian letter variants and tashkeel, punctuation and invisible characters. Thai tone and vowel marks
  are letters of the name there and are kept.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.utils.translation import gettext as _
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from threadline.contacts.models import IdentityKind
from threadline.core.errors import ValidationFailed

PHONE_KINDS = frozenset({IdentityKind.PHONE, IdentityKind.WHATSAPP})
MAX_ADDRESS = 320
_E164_DIGITS = re.compile(r"[1-9][0-9]{6,14}")  # a country code and a number: at most 15 digits

# Combining marks that decorate a letter without changing it, for matching: Latin/Greek/Cyrillic accents,
# Hebrew niqqud and cantillation, Arabic tashkeel. (Thai and other Brahmic marks are vowels: kept.)
_STRIPPED_MARKS = (
    (0x0300, 0x036F), (0x0483, 0x0489), (0x0591, 0x05C7), (0x0610, 0x061A), (0x064B, 0x065F),
    (0x0670, 0x0670), (0x06D6, 0x06ED), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F),
)
_FOLDED = str.maketrans({
    "ך": "כ", "ם": "מ", "ן": "נ", "ף": "פ", "ץ": "צ",  # Hebrew final letters
    "ي": "ی", "ى": "ی", "ك": "ک", "ـ": "",  # Arabic yeh/kaf → Persian forms, tatweel dropped
    "ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i",
})
_WORD_BREAKS = {"\u200b"}  # a zero-width space separates words (Thai text uses it)

# Local parts shared by many unrelated people: never a reason to think two contacts are one person.
ROLE_LOCAL_PARTS = frozenset({
    "admin", "billing", "contact", "customerservice", "hello", "help", "hi", "info", "mail", "noreply",
    "no-reply", "office", "orders", "post", "postmaster", "sales", "service", "support", "team", "test",
    "webmaster",
})
# Email domains anyone can have an address at: not an organization.
FREEMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "ymail.com",
    "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net",
    "web.de", "mail.ru", "yandex.ru", "yandex.com", "seznam.cz", "email.cz", "centrum.cz", "walla.co.il",
    "walla.com", "hotmail.co.th", "qq.com", "163.com", "126.com", "zoho.com", "fastmail.com", "tutanota.com",
})


def check_text(value: str, *, field: str, max_length: int) -> str:
    """A user-supplied string without NUL, lone surrogates or control characters, within `max_length`."""
    if len(value) > max_length:
        raise ValidationFailed(_("%(field)s is too long (at most %(n)d characters).") % {"field": field,
                               "n": max_length}, code="too_long", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationFailed(_("%(field)s is not valid text.") % {"field": field}, code="invalid_text",
                               field=field) from exc
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in value):
        raise ValidationFailed(_("%(field)s contains control characters.") % {"field": field},
                               code="invalid_text", field=field)
    return value


def normalize_email(address: str) -> str:
    """The address lower-cased, its syntax checked (never its deliverability: no DNS).

    Addresses on special-use or unresolvable domains (`.local`, `.test`, `.internal`, `.home.arpa`, a bare
    host name) are real inside their networks and are kept: email-validator refuses the special-use names
    whatever its options, so their domain is checked with a placeholder top-level label instead.
    """
    candidate = address.strip()
    try:
        try:
            result = validate_email(candidate, check_deliverability=False, test_environment=True,
                                    globally_deliverable=False)
        except EmailNotValidError:
            local, _at, domain = candidate.rpartition("@")
            labels = domain.lower().rstrip(".").split(".")
            if labels[-1] not in SPECIAL_USE_DOMAIN_NAMES:
                raise
            placeholder = validate_email(f"{local}@{'.'.join([*labels[:-1], 'example'])}",
                                         check_deliverability=False, globally_deliverable=False)
            return (placeholder.normalized.lower().removesuffix("example") + labels[-1])
    except EmailNotValidError as exc:
        raise ValidationFailed(_("%(address)s is not a valid email address.") % {"address": address},
                               code="invalid_email", field="address") from exc
    return result.normalized.lower()


def normalize_phone(address: str, region: str, *, strict: bool = False) -> str:
    """E.164 of `address`; a number without a country code is read in `region`.

    `strict` (numbers an agent types) also requires a number in an assigned range; numbers a provider
    reports only need to be possible, so a new range missing from the metadata never loses a message.
    """
    raw = address.strip()
    if not region and not raw.startswith("+"):
        raw = "+" + raw
    try:
        number = phonenumbers.parse(raw, region or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(_("%(address)s is not a phone number.") % {"address": address},
                               code="invalid_phone", field="address") from exc
    valid = phonenumbers.is_valid_number(number) if strict else phonenumbers.is_possible_number(number)
    if not valid:
        raise ValidationFailed(_("%(address)s is not a valid phone number.") % {"address": address},
                               code="invalid_phone", field="address")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_kind(kind: str) -> str:
    if kind not in IdentityKind.values:
        raise ValidationFailed(_("Unknown identity kind %(kind)s.") % {"kind": kind}, code="invalid_kind", field="kind")
    return kind


def vouched_phone(address: str, *, international: bool) -> str:
    """A number the provider delivered from but the phone metadata refuses (Mexico's historic `521…`
    WhatsApp ids are "too long"; a range newer than the metadata): its digits in E.164 form when it is
    written as an international number, else exactly as given (short codes, alphanumeric sender ids,
    WhatsApp's business-scoped user ids such as `US.13491208655302741918`)."""
    raw = address.strip()
    digits = re.sub(r"[\s().-]", "", raw)
    if (international or digits.startswith("+")) and _E164_DIGITS.fullmatch(digits.lstrip("+")):
        return "+" + digits.lstrip("+")
    return raw


def normalize(kind: str, address: str, *, region: str = "US", strict: bool = False, vouched: bool = False) -> str:
    """The canonical form of `address` for `kind`: emails lower-cased, phone numbers in E.164.

    `vouched`: the provider delivered a message from this address, so it is an identity whatever the phone
    metadata says: a phone or WhatsApp address that is no valid number is kept as the provider gave it
    (`vouched_phone`) rather than refused. Nothing is lost because a library disagrees with the provider.
    """
    check_kind(kind)
    if not address or not address.strip():
        raise ValidationFailed(_("The address is empty."), code="invalid_address", field="address")
    check_text(address, field="address", max_length=MAX_ADDRESS)
    if kind == IdentityKind.EMAIL:
        return normalize_email(address)
    if kind in PHONE_KINDS:
        # WhatsApp ids are the international number without "+": parse them as international.
        international = kind == IdentityKind.WHATSAPP and not address.strip().startswith("+")
        try:
            return normalize_phone(address, "" if international else region, strict=strict)
        except ValidationFailed:
            if not vouched or strict:
                raise
            return vouched_phone(address, international=kind == IdentityKind.WHATSAPP)
    return address.strip()


def email_domain(address: str) -> str:
    return address.rpartition("@")[2]


def organization_domain(address: str) -> str:
    """The domain of a normalized email when it names an organization (not a free-mail provider), else ""."""
    domain = email_domain(address)
    return "" if domain in FREEMAIL_DOMAINS else domain


def match_key(kind: str, address: str) -> str:
    """The key near-identical identities share, for a *normalized* address; "" when it says nothing.

    Phones and WhatsApp: `tel:<national significant number>` (same digits after different country codes).
    Emails: `local:<local part without +tag>`, unless it is a role account (info@, support@...) or shorter than
    five characters (a bare first name such as dana@ is shared by too many people).
    """
    if kind in PHONE_KINDS:
        try:
            number = phonenumbers.parse(address, None)
        except phonenumbers.NumberParseException:
            return ""
        national = phonenumbers.national_significant_number(number)
        if number.country_code == 52 and len(national) == 11 and national.startswith("1"):
            national = national[1:]  # Mexico's historic mobile "1": WhatsApp's +52 1 55… is SMS's +52 55…
        return f"tel:{national}" if len(national) >= 6 else ""
    if kind == IdentityKind.EMAIL:
        local = address.rpartition("@")[0].split("+", 1)[0]
        if len(local) < 5 or local in ROLE_LOCAL_PARTS:
            return ""
        return f"local:{local}"[:MAX_ADDRESS]
    return ""


def _stripped(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in _STRIPPED_MARKS)


def name_key(name: str) -> str:
    """`name` folded for matching: "José  Núñez" and "jose nunez", "דָּנָה לוי" and "דנה לוי" give one key."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name or "").casefold())
    kept: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if char in _WORD_BREAKS or category[0] in "PZS" or category == "Cc":
            kept.append(" ")
        elif category == "Cf" or (category == "Mn" and _stripped(char)):
            continue
        else:
            kept.append(char)
    folded = unicodedata.normalize("NFC", "".join(kept)).translate(_FOLDED)
    return " ".join(folded.split())[:300]


def is_distinctive_name(key: str) -> bool:
    """Whether a name key says enough to suggest a merge: two words, or one long word in a non-Latin script.

    "Dana" or "Support" alone is shared by too many people; a name that is an address or a number is no name.
    """
    letters = key.replace(" ", "")
    if len(letters) < 4 or sum(c.isdigit() for c in letters) * 2 > len(letters):
        return False
    return " " in key or not letters.isascii()
