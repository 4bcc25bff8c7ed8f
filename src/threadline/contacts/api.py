"""/api/v1/contacts: contacts, their identities, merges and unmerges, and merge suggestions.

Every agent may read; light agents may not change contacts. Errors are `{"code", "message"}`: a taken identity
is 409 `identity_taken`, deleting a contact with conversations is 409 `contact_has_conversations`, a second
unmerge is 409 `already_unmerged`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import page, paginate
from threadline.contacts.actions import (
    do_add_identity,
    do_delete_contact,
    do_register_contact,
    do_remove_identity,
    do_update_contact,
)
from threadline.contacts.merge import (
    do_accept_suggestion,
    do_dismiss_suggestion,
    do_merge_contacts,
    do_unmerge_contacts,
)
from threadline.contacts.models import Contact, ContactIdentity, ContactMerge, MergeSuggestion
from threadline.contacts.queries import (
    access_contact,
    access_identity,
    access_merge,
    access_suggestion,
    contacts_of,
    list_contacts,
    list_merges,
    list_suggestions,
)
from threadline.contacts.schemas import (
    AcceptQuery,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    ContactQuery,
    IdentityIn,
    IdentityOut,
    MergeIn,
    MergeOut,
    SuggestionOut,
    SuggestionQuery,
)
from threadline.core.schemas import Id
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["contacts"])
MAX_LISTED = 100


def _detail(agent: Membership, contact_id: int) -> Contact:
    return contacts_of(agent).prefetch_related("identities").get(pk=contact_id)


# ── contacts ─────────────────────────────────────────────────────────────────────────────────────────
@router.get("", response=responses(ContactPage), summary="List or search contacts")
def contacts(request: HttpRequest, query: Query[ContactQuery]) -> dict[str, Any]:
    """Newest first. `q` matches part of a name, or an identity address (normalized first)."""
    rows = list_contacts(actor(request), q=query.q or "", include_merged=query.include_merged)
    items, cursor = paginate(rows, cursor=query.cursor, limit=query.limit)
    return page(items, cursor)


@router.post("", response=responses(ContactOut, 201), summary="Create a contact with its identities")
def create_contact(request: HttpRequest, payload: ContactIn) -> Status[Any]:
    agent = actor(request)
    fields = payload.model_dump(exclude={"identities"})
    items = [{**item.model_dump(), "kind": item.kind.value} for item in payload.identities]
    with transaction.atomic():
        contact = do_register_contact(agent, identities_in=items, **fields)
    return Status(201, _detail(agent, contact.pk))


@router.get("/{contact_id}", response=responses(ContactOut), summary="Get a contact with its identities")
def contact_detail(request: HttpRequest, contact_id: Id) -> Contact:
    agent = actor(request)
    return access_contact(agent, contact_id, with_identities=True)  # one read of the contact, not two


@router.patch("/{contact_id}", response=responses(ContactOut), summary="Change a contact's fields")
def update_contact(request: HttpRequest, contact_id: Id, payload: ContactPatch) -> Contact:
    agent = actor(request)
    fields = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    with transaction.atomic():
        do_update_contact(access_contact(agent, contact_id), actor=agent, **fields)
    return _detail(agent, contact_id)


@router.delete("/{contact_id}", response=responses(None, 204),
               summary="Delete a contact that has no conversations")
def delete_contact(request: HttpRequest, contact_id: Id) -> Status[None]:
    agent = actor(request)
    with transaction.atomic():
        do_delete_contact(agent, access_contact(agent, contact_id))
    return Status(204, None)


# ── identities ───────────────────────────────────────────────────────────────────────────────────────
@router.post("/{contact_id}/identities", response=responses(IdentityOut, 201), summary="Add an identity")
def add_identity(request: HttpRequest, contact_id: Id, payload: IdentityIn) -> Status[Any]:
    """The address is normalized; one another contact has already is 409 `identity_taken` (merge instead)."""
    agent = actor(request)
    with transaction.atomic():
        identity = do_add_identity(access_contact(agent, contact_id), payload.kind.value, payload.address,
                                   verified=payload.verified, display_name=payload.display_name, actor=agent,
                                   strict=True)
    return Status(201, identity)


@router.delete("/{contact_id}/identities/{identity_id}", response=responses(None, 204),
               summary="Remove an identity")
def remove_identity(request: HttpRequest, contact_id: Id, identity_id: Id) -> Status[None]:
    agent = actor(request)
    with transaction.atomic():
        identity: ContactIdentity = access_identity(agent, access_contact(agent, contact_id), identity_id)
        do_remove_identity(identity, actor=agent)
    return Status(204, None)


# ── merges ───────────────────────────────────────────────────────────────────────────────────────────
@router.post("/{contact_id}/merge", response=responses(MergeOut, 201),
             summary="Merge another contact (source_id) into this one")
def merge_contacts(request: HttpRequest, contact_id: Id, payload: MergeIn) -> Status[Any]:
    """Moves the source's identities, conversations and messages here; undo with the merge's `unmerge`."""
    agent = actor(request)
    require(agent, Permission.MERGE)  # before any lookup: a refused role learns nothing about the ids
    with transaction.atomic():
        target = access_contact(agent, contact_id)
        merge = do_merge_contacts(agent, access_contact(agent, payload.source_id), target)
    return Status(201, merge)


@router.get("/{contact_id}/merges", response=responses(list[MergeOut]), summary="Merges a contact took part in")
def contact_merges(request: HttpRequest, contact_id: Id) -> list[ContactMerge]:
    agent = actor(request)
    return list(list_merges(agent, access_contact(agent, contact_id))[:MAX_LISTED])


@router.get("/merges/{merge_id}", response=responses(MergeOut), summary="Get a merge")
def merge_detail(request: HttpRequest, merge_id: Id) -> ContactMerge:
    return access_merge(actor(request), merge_id)


@router.post("/merges/{merge_id}/unmerge", response=responses(MergeOut), summary="Undo a merge")
def unmerge_contacts(request: HttpRequest, merge_id: Id) -> ContactMerge:
    """Restores both contacts, their identities and conversations as they were; a second unmerge is 409."""
    agent = actor(request)
    with transaction.atomic():
        merge = do_unmerge_contacts(agent, access_merge(agent, merge_id))
    return merge


# ── suggestions ──────────────────────────────────────────────────────────────────────────────────────
@router.get("/{contact_id}/suggestions", response=responses(list[SuggestionOut]),
            summary="Contacts that may be the same person, best first")
def contact_suggestions(request: HttpRequest, contact_id: Id, query: Query[SuggestionQuery]) -> list[MergeSuggestion]:
    agent = actor(request)
    return list(list_suggestions(agent, access_contact(agent, contact_id), state=query.state.value)[:MAX_LISTED])


@router.post("/suggestions/{suggestion_id}/accept", response=responses(MergeOut, 201),
             summary="Accept a suggestion: merge the pair")
def accept_suggestion(request: HttpRequest, suggestion_id: Id, query: Query[AcceptQuery]) -> Status[Any]:
    """The newer contact is merged into the existing one, unless `target_id` names the one to keep."""
    agent = actor(request)
    with transaction.atomic():
        suggestion = access_suggestion(agent, suggestion_id)
        target = access_contact(agent, query.target_id) if query.target_id else None
        merge = do_accept_suggestion(agent, suggestion, target=target)
    return Status(201, merge)


@router.post("/suggestions/{suggestion_id}/dismiss", response=responses(SuggestionOut),
             summary="Dismiss a suggestion: the two are different people")
def dismiss_suggestion(request: HttpRequest, suggestion_id: Id) -> MergeSuggestion:
    agent = actor(request)
    with transaction.atomic():
        suggestion = do_dismiss_suggestion(agent, access_suggestion(agent, suggestion_id))
    return access_suggestion(agent, suggestion.pk)
