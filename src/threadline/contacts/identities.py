"""Normalizing identity addresses so that one person's address is always stored the same way."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from django.utils.translation import gettext as _

from threadline.contacts.models import IdentityKind
from threadline.core.errors import ValidationFailed

PHONE_KINDS = frozenset({IdentityKind.PHONE, IdentityKind.WHATSAPP})


def normalize_email(address: str) -> str:
    try:
        result = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(_("%(address)s is not a valid email address.") % {"address": address},
                               code="invalid_email", field="address") from exc
    return result.normalized.lower()


def normalize_phone(address: str, region: str) -> str:
    raw = address.strip()
    if not region and not raw.startswith("+"):
        raw = "+" + raw
    try:
        number = phonenumbers.parse(raw, region or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(_("%(address)s is not a phone number.") % {"address": address},
                               code="invalid_phone", field="address") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationFailed(_("%(address)s is not a possible phone number.") % {"address": address},
                               code="invalid_phone", field="address")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize(kind: str, address: str, *, region: str = "US") -> str:
    """The canonical form of `address` for `kind`: emails lower-cased, phone numbers in E.164."""
    if kind not in IdentityKind.values:
        raise ValidationFailed(_("Unknown identity kind %(kind)s.") % {"kind": kind}, code="invalid_kind", field="kind")
    if not address or not address.strip():
        raise ValidationFailed(_("The address is empty."), code="invalid_address", field="address")
    if kind == IdentityKind.EMAIL:
        return normalize_email(address)
    if kind in PHONE_KINDS:
        # WhatsApp ids are the international number without "+": parse them as international.
        return normalize_phone(address, "" if kind == IdentityKind.WHATSAPP and not address.startswith("+") else region)
    value = address.strip()
    if len(value) > 320:
        raise ValidationFailed(_("The address is too long."), code="invalid_address", field="address")
    return value
