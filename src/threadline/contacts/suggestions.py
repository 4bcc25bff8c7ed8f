"""Merge suggestions: contacts that may be the same person, with reasons, never merged automatically.

`suggest_for(contact)` runs when a contact is created from an inbound message (and when an identity is added).
Every rule is an indexed lookup (`Contact.name_key`, `ContactIdentity.match_key`), bounded by `MAX_CANDIDATES`:

- same_name: the same display name once folded (case, diacritics, Hebrew/Persian/Thai forms), if distinctive;
- same_name_and_domain: ...and both write from the same organization's email domain (not a free-mail one);
- same_organization: ...and both belong to the same Organization;
- same_phone_number: the same number on another kind (phone vs WhatsApp) held by another contact;
- same_national_number: the same national digits after a different country code;
- same_email_local_part: the same email local part at another domain (not a role account like info@);
- same_unverified_email: the email the contact typed in a form (the `unverified_email` attribute: web chat's
  pre-chat form, the portal's public forms) is another contact's email identity.

Reasons are stored as `{"code", "params"}` and rendered in the reader's language by `describe`.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy

from threadline.contacts import identities
from threadline.contacts.events import MergeSuggested
from threadline.contacts.models import Contact, ContactIdentity, IdentityKind, MergeSuggestion
from threadline.core.batch_rows import fresh_all
from threadline.core.prepared import Prepared
from threadline.events.bus import publish

MAX_CANDIDATES = 20


def _same_keys(workspace_id: int, keys: list[str], contact_id: int) -> Any:
    """Identities of other live contacts with one of these matching keys (see `ContactIdentity.match_key`)."""
    return (
        ContactIdentity.objects.filter(workspace_id=workspace_id, match_key__in=keys, contact__merged_into__isnull=True)
        .exclude(contact_id=contact_id)
        .values_list("contact_id", "kind", "address", "match_key")[: MAX_CANDIDATES * 2]
    )


# The reads of a new contact's suggestions (one per inbound message from a new sender), compiled once (issue 11)
_IDENTITIES = Prepared(lambda contact_id: ContactIdentity.objects.filter(contact_id=contact_id))
_SAME_NAME = Prepared(lambda workspace_id, contact_id, key: Contact.objects.filter(
    workspace_id=workspace_id, merged_into__isnull=True).exclude(pk=contact_id).filter(name_key=key)
    .values_list("pk", "name", "organization_id")[:MAX_CANDIDATES])
_SAME_KEY = Prepared(lambda workspace_id, key, contact_id: _same_keys(workspace_id, [key], contact_id))

# code → (weight, message template). The score of a suggestion is 1 - Π(1 - weight) over its reasons.
REASONS: dict[str, tuple[float, Any]] = {
    "same_name": (0.4, gettext_lazy("Same name: %(name)s and %(other_name)s")),
    "same_name_and_domain": (0.5, gettext_lazy("Same name, and both write from %(domain)s")),
    "same_organization": (0.4, gettext_lazy("Same name, and both belong to %(organization)s")),
    "same_phone_number": (0.9, gettext_lazy("The same phone number %(address)s, on %(kind)s and on %(other_kind)s")),
    "same_national_number": (
        0.5, gettext_lazy("The same phone number with another country code: %(address)s and %(other_address)s")
    ),
    "same_email_local_part": (
        0.35, gettext_lazy("The same email name at another domain: %(address)s and %(other_address)s")
    ),
    "same_unverified_email": (
        0.6, gettext_lazy("Typed the email address %(address)s (not verified), which the other contact has")
    ),
}
UNVERIFIED_EMAIL = "unverified_email"  # the contact attribute keeping an email typed in a form

Reason = dict[str, Any]


def describe(reason: Reason) -> str:
    """A reason in the active language."""
    entry = REASONS.get(str(reason.get("code")))
    if entry is None:
        return str(reason.get("code", ""))
    try:
        return str(entry[1]) % reason.get("params", {})
    except (KeyError, TypeError, ValueError):
        return str(entry[1])


def score(reasons: list[Reason]) -> float:
    remaining = 1.0
    for reason in reasons:
        remaining *= 1.0 - REASONS.get(str(reason.get("code")), (0.0, ""))[0]
    return round(1.0 - remaining, 3)


def _name_reasons(contact: Contact, own: list[ContactIdentity]) -> dict[int, list[Reason]]:
    found: dict[int, list[Reason]] = {}
    key = contact.name_key
    if not key or "@" in contact.name or not identities.is_distinctive_name(key):
        return found
    named = _SAME_NAME.all(contact.workspace_id, contact.pk, key)
    for pk, name, organization_id in named:
        found[pk] = [{"code": "same_name", "params": {"name": contact.name, "other_name": name}}]
        if contact.organization_id and organization_id == contact.organization_id:
            found[pk].append({"code": "same_organization", "params": {"organization": contact.organization.name}})
    domains = {identities.organization_domain(i.address) for i in own if i.kind == IdentityKind.EMAIL} - {""}
    if named and domains:
        emails = ContactIdentity.objects.filter(contact_id__in=list(found), kind=IdentityKind.EMAIL)
        shared: dict[int, str] = {}
        for pk, address in emails.values_list("contact_id", "address"):
            domain = identities.organization_domain(address)
            if domain in domains:
                shared.setdefault(pk, domain)
        for pk, domain in shared.items():
            found[pk].append({"code": "same_name_and_domain", "params": {"domain": domain}})
    return found


def _identity_reasons(contact: Contact, own: list[ContactIdentity]) -> dict[int, list[Reason]]:
    found: dict[int, list[Reason]] = {}
    mine: dict[str, list[ContactIdentity]] = {}
    for identity in own:
        if identity.match_key:
            mine.setdefault(identity.match_key, []).append(identity)
    if not mine:
        return found
    if len(mine) == 1:  # the usual case (one identity): the same query, prepared
        others = _SAME_KEY.all(contact.workspace_id, next(iter(mine)), contact.pk)
    else:
        others = list(_same_keys(contact.workspace_id, list(mine), contact.pk))
    for pk, kind, address, key in others:
        reasons = found.setdefault(pk, [])
        for identity in mine[key]:
            if identity.kind in identities.PHONE_KINDS:
                if identity.address == address:
                    reason = {"code": "same_phone_number",
                              "params": {"address": address, "kind": identity.kind, "other_kind": kind}}
                else:
                    reason = {"code": "same_national_number",
                              "params": {"address": identity.address, "other_address": address}}
            elif identity.address != address:
                reason = {"code": "same_email_local_part",
                          "params": {"address": identity.address, "other_address": address}}
            else:
                continue
            if all(r["code"] != reason["code"] for r in reasons):
                reasons.append(reason)
    return {pk: reasons for pk, reasons in found.items() if reasons}


def _typed_email_reasons(contact: Contact) -> dict[int, list[Reason]]:
    typed = (contact.attributes or {}).get(UNVERIFIED_EMAIL)
    if not isinstance(typed, str) or not typed:
        return {}
    owners = (ContactIdentity.objects.filter(workspace_id=contact.workspace_id, kind=IdentityKind.EMAIL,
                                             address=typed.strip().lower(), contact__merged_into__isnull=True)
              .exclude(contact_id=contact.pk).values_list("contact_id", flat=True)[:MAX_CANDIDATES])
    return {pk: [{"code": "same_unverified_email", "params": {"address": typed}}] for pk in owners}


def _record(contact: Contact, candidate_id: int, reasons: list[Reason]) -> MergeSuggestion | None:
    """Create the pair's suggestion, or add new reasons to its open one; a resolved pair stays resolved."""
    existing = MergeSuggestion.objects.filter(
        Q(contact=contact, candidate_id=candidate_id) | Q(contact_id=candidate_id, candidate=contact)
    ).first()
    if existing is not None:
        if existing.state != MergeSuggestion.State.OPEN:
            return None
        known = {r.get("code") for r in existing.reasons}
        added = [r for r in reasons if r["code"] not in known]
        if not added:
            return None
        existing.reasons = [*existing.reasons, *added]
        existing.score = score(existing.reasons)
        existing.save(update_fields=["reasons", "score", "updated_at"])
        suggestion = existing
    else:
        try:
            with transaction.atomic():
                suggestion = MergeSuggestion.objects.create(
                    workspace_id=contact.workspace_id, contact=contact, candidate_id=candidate_id, reasons=reasons,
                    score=score(reasons),
                )
        except IntegrityError:  # the same pair recorded concurrently
            return None
    with translation.override(contact.workspace.default_language):
        rendered = [{**r, "message": describe(r)} for r in suggestion.reasons]
    publish(MergeSuggested(workspace_id=contact.workspace_id, suggestion_id=suggestion.pk,
                           contact_id=suggestion.contact_id, candidate_id=suggestion.candidate_id,
                           score=suggestion.score, reasons=rendered))
    return suggestion


def suggest_for(contact: Contact) -> list[MergeSuggestion]:
    """Record suggestions pairing `contact` with contacts that may be the same person; never merges.

    Returns the suggestions created or given new reasons. A dismissed or accepted pair is never suggested again.
    """
    if contact.merged_into_id:
        return []
    own = fresh_all(ContactIdentity, "contact_id", contact.pk)  # a new contact's one identity, kept by its writer
    if own is None:
        own = _IDENTITIES.all(contact.pk)
    found = _name_reasons(contact, own)
    for pk, reasons in [*_identity_reasons(contact, own).items(), *_typed_email_reasons(contact).items()]:
        found.setdefault(pk, []).extend(reasons)
    recorded = [_record(contact, pk, reasons) for pk, reasons in sorted(found.items())]
    return [s for s in recorded if s is not None]
