"""A contact's preferred channel kinds, best first, each with where the preference comes from.

Stated: `Contact.preferred_channel` (the contact panel, the API). Learned: the kind of the channel of the
contact's latest inbound message (where they answer). Regional: the workspace's default for the contact's
country (`Contact.country`, else the country of their phone number), e.g. TH → line, IL → whatsapp. Outreach
walks this list to the first reachable channel; the composer's "Reply on" starts on the first reachable one.
Also the contact's time zone for quiet hours: stored, else from the phone number, else the workspace's.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from functools import lru_cache

import phonenumbers
from phonenumbers import timezone as phone_zones

from threadline.contacts.models import Contact, ContactIdentity

STATED, LEARNED, REGIONAL = "stated", "learned", "regional"
PHONE_KINDS = ("phone", "whatsapp")


def _parse(address: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(address if address.startswith("+") else f"+{address}")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def _phone(identities: Iterable[ContactIdentity]) -> phonenumbers.PhoneNumber | None:
    for identity in identities:
        if identity.kind in PHONE_KINDS:
            number = _parse(identity.address)
            if number is not None:
                return number
    return None


def country_of(contact: Contact, identities: Iterable[ContactIdentity]) -> str:
    """The contact's country: stored, else their phone number's ("" when neither)."""
    if contact.country:
        return contact.country.upper()
    number = _phone(identities)
    return (phonenumbers.region_code_for_number(number) or "") if number is not None else ""


@lru_cache(maxsize=512)
def _region_zone(region: str) -> str:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.FIXED_LINE)
    zones = phone_zones.time_zones_for_geographical_number(example) if example is not None else ()
    return next((z for z in zones if z != phone_zones.UNKNOWN_TIMEZONE), "")


def zone_of(contact: Contact, identities: Iterable[ContactIdentity], fallback: str) -> str:
    """The contact's time zone name: stored, else their phone number's (the number's own zone when it has one,
    else its country's main zone), else `fallback` (the workspace's)."""
    if contact.time_zone:
        try:
            zoneinfo.ZoneInfo(contact.time_zone)
            return contact.time_zone
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    number = _phone(identities)
    if number is not None:
        zones = [z for z in phone_zones.time_zones_for_number(number) if z != phone_zones.UNKNOWN_TIMEZONE]
        if len(zones) == 1:
            return zones[0]
        region = phonenumbers.region_code_for_number(number)
        found = _region_zone(region) if region else ""
        if found:
            return found
    if contact.country:
        found = _region_zone(contact.country.upper())
        if found:
            return found
    return fallback


def preferences(contact: Contact, identities: Iterable[ContactIdentity], *, learned: str = "",
                region_defaults: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(channel kind, why) best first, without repeats: stated, learned (`learned`: the kind of the channel of
    the contact's latest inbound message, which the caller looks up), then the region's default."""
    identities = list(identities)
    found: list[tuple[str, str]] = []
    regional = (region_defaults or {}).get(country_of(contact, identities), "")
    for kind, why in ((contact.preferred_channel, STATED), (learned, LEARNED), (regional, REGIONAL)):
        if kind and kind not in [k for k, _why in found]:
            found.append((kind, why))
    return found

