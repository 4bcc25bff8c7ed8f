"""Reads for contacts, and `access_*`: the only permission-checked lookups of contacts, merges and suggestions.

Every agent of a workspace (light agents included) may read all of its contacts; a row of another workspace is
NotFound, never Forbidden. A contact merged into another one is still readable (its `merged_into` says where).
"""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from threadline.contacts import identities
from threadline.contacts.models import (
    Contact,
    ContactIdentity,
    ContactMerge,
    CustomField,
    IdentityKind,
    MergeSuggestion,
)
from threadline.core.errors import NotFound, ValidationFailed
from threadline.search.queries import contact_ids
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

MAX_ID = 2**63 - 1
MAX_QUERY = 200
EXACT_LIMIT = 100  # contacts an exact address can name (one, but for unmerged duplicates across kinds)
FRAGMENT_LIMIT = 500  # best-ranked contacts a fragment finds
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{5,}$")
# One token with a digit, "_" or "." in it (or typed with a leading "@"): a handle or an id, never a name
_HANDLE_LIKE = re.compile(r"^(@[\w.\-]+|[\w\-]*[\d_.][\w.\-]*)$")


def _valid_id(value: int) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_ID


def contacts_of(actor: Membership) -> QuerySet[Contact]:
    require(actor, Permission.VIEW)
    return Contact.objects.filter(workspace_id=actor.workspace_id)


def access_contact(actor: Membership, contact_id: int, *, with_identities: bool = False) -> Contact:
    """The contact, or NotFound; `with_identities` loads its identities too (one statement more, not two)."""
    rows = contacts_of(actor).prefetch_related("identities") if with_identities else contacts_of(actor)
    contact = rows.filter(pk=contact_id).first() if _valid_id(contact_id) else None
    if contact is None:
        raise NotFound(_("No such contact."), code="contact_not_found")
    return contact


def access_identity(actor: Membership, contact: Contact, identity_id: int) -> ContactIdentity:
    identity = (
        ContactIdentity.objects.filter(workspace_id=actor.workspace_id, contact=contact, pk=identity_id).first()
        if _valid_id(identity_id) else None
    )
    if identity is None:
        raise NotFound(_("This contact has no such identity."), code="identity_not_found")
    return identity


def access_merge(actor: Membership, merge_id: int) -> ContactMerge:
    require(actor, Permission.VIEW)
    merge = (
        ContactMerge.objects.filter(workspace_id=actor.workspace_id, pk=merge_id).select_related("source", "target")
        .first() if _valid_id(merge_id) else None
    )
    if merge is None:
        raise NotFound(_("No such merge."), code="merge_not_found")
    return merge


def access_suggestion(actor: Membership, suggestion_id: int) -> MergeSuggestion:
    require(actor, Permission.VIEW)
    suggestion = (
        MergeSuggestion.objects.filter(workspace_id=actor.workspace_id, pk=suggestion_id)
        .select_related("contact", "candidate").first() if _valid_id(suggestion_id) else None
    )
    if suggestion is None:
        raise NotFound(_("No such suggestion."), code="suggestion_not_found")
    return suggestion


def _address_forms(query: str, region: str) -> set[str]:
    """The normalized addresses `query` may denote, lower-cased (the index's form): as typed, as an email, as a
    phone number in `region`, as a handle typed with a leading "@"."""
    forms = {query.lower(), query.removeprefix("@").lower()}
    if "@" in query:
        try:
            forms.add(identities.normalize(IdentityKind.EMAIL, query))
        except ValidationFailed:
            pass
    if _PHONE_LIKE.match(query):
        try:
            forms.add(identities.normalize(IdentityKind.PHONE, query, region=region).lower())
        except ValidationFailed:
            pass
    return forms


def is_address(query: str) -> bool:
    """Whether `query` is shaped like a whole address (an email, a phone number, a handle or an id), which an
    exact hit answers alone, rather than words of a name."""
    return "@" in query or bool(_PHONE_LIKE.match(query) or _HANDLE_LIKE.match(query))


def search_filter(actor: Membership, query: str) -> Q:
    """Contacts whose name matches `query` (words or the start of the last one, accent-insensitive, through the
    search index) or who have an identity at it.

    Identity addresses are normalized first: "+972 52-555-1234" and "052-555-1234" (region IL) find the same
    contact; addresses are matched case-insensitively; fragments (words of an address, the start of one, a phone
    number's last four or more digits) are found through the search index (`threadline.search`), never by a
    scan. A query that is a whole email address, phone number or handle (`is_address`) with an exact match
    returns just the contacts that have it: one lookup in the (workspace, lower(address)) index (migration
    contacts.0005), whatever the number of contacts.
    """
    query = query.strip()
    if len(query) > MAX_QUERY:
        raise ValidationFailed(_("The search is too long."), code="invalid_query", field="q")
    identities.check_text(query, field="q", max_length=MAX_QUERY)
    region = actor.workspace.default_region
    forms = _address_forms(query, region)
    exact = list(ContactIdentity.objects.alias(folded=Lower("address"))
                 .filter(workspace_id=actor.workspace_id, folded__in=sorted(forms))
                 .values_list("contact_id", flat=True)[:EXACT_LIMIT])
    if exact and is_address(query):
        return Q(pk__in=exact)  # a whole address: only when nothing has it does the fragment search run
    words = re.sub(r"\D", "", query) if _PHONE_LIKE.match(query) else query
    found = contact_ids(actor.workspace_id, words, limit=FRAGMENT_LIMIT)
    # one list of ids (not an OR of a subquery and a list, which SQLite answers by scanning the contacts)
    return Q(pk__in=list(dict.fromkeys([*exact, *found])))


def list_contacts(actor: Membership, *, q: str = "", include_merged: bool = False) -> QuerySet[Contact]:
    """The workspace's contacts (unordered: callers page them by id), optionally searched; merged ones hidden."""
    contacts = contacts_of(actor)
    if not include_merged:
        contacts = contacts.filter(merged_into__isnull=True)
    if q and q.strip():
        contacts = contacts.filter(search_filter(actor, q))
    return contacts.prefetch_related("identities")


def list_suggestions(actor: Membership, contact: Contact, *, state: str = MergeSuggestion.State.OPEN,
                     ) -> QuerySet[MergeSuggestion]:
    """Suggestions pairing `contact` with another contact, best first; open ones leave out merged contacts."""
    rows = MergeSuggestion.objects.filter(workspace_id=actor.workspace_id).filter(
        Q(contact=contact) | Q(candidate=contact)
    )
    if state:
        rows = rows.filter(state=state)
    if state == MergeSuggestion.State.OPEN:
        rows = rows.filter(contact__merged_into__isnull=True, candidate__merged_into__isnull=True)
    return rows.select_related("contact", "candidate").prefetch_related(
        "contact__identities", "candidate__identities").order_by("-score", "-id")


def list_merges(actor: Membership, contact: Contact) -> QuerySet[ContactMerge]:
    """Merges `contact` took part in, newest first."""
    return (
        ContactMerge.objects.filter(workspace_id=actor.workspace_id)
        .filter(Q(source=contact) | Q(target=contact))
        .select_related("source", "target")
        .order_by("-id")
    )


# ── custom fields ─────────────────────────────────────────────────────────────────────────────────────
def list_fields(workspace_id: int, applies_to: str | None = None) -> QuerySet[CustomField]:
    fields = CustomField.objects.filter(workspace_id=workspace_id)
    return fields.filter(applies_to=applies_to) if applies_to else fields


def access_field(actor: Membership, field_id: int) -> CustomField:
    field = list_fields(actor.workspace_id).filter(pk=field_id).first()
    if field is None:
        raise NotFound(_("No such field."), code="field_not_found")
    return field
