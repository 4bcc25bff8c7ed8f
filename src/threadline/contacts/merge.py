"""Merging two contacts into one, and unmerging them exactly as they were. Callers own the transaction.

A merge moves everything of `source` to `target` — identities, conversations, the messages it wrote, its open
suggestions — marks `source.merged_into = target`, fills `target`'s empty fields from `source`, and keeps in a
`ContactMerge` row a snapshot of exactly what moved and both contacts' fields before and after. An unmerge
reads that snapshot back: both contacts, the identities (owner and `verified` flag) and the conversations
return to where they were, while whatever was created on `target` after the merge stays with `target`.
See docs/identity.md.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.contacts import identities
from threadline.contacts.events import ContactsMerged, ContactsUnmerged, SuggestionResolved
from threadline.contacts.models import Contact, ContactIdentity, ContactMerge, MergeSuggestion
from threadline.conversations.models import Conversation, ConversationEvent, Direction, Message
from threadline.conversations.splitting import do_separate_sides
from threadline.core.errors import Conflict, NotFound, ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

SNAPSHOT_VERSION = 1
CONTACT_FIELDS = ("name", "language", "time_zone", "country", "preferred_channel", "organization_id",
                  "consent", "attributes")
MERGED_DICTS = ("consent", "attributes")  # merged key by key; the target's values win
Open = MergeSuggestion.State.OPEN


def _fields(contact: Contact) -> dict[str, Any]:
    return {name: copy.deepcopy(getattr(contact, name)) for name in CONTACT_FIELDS}


def _lock(*contacts: Contact) -> list[Contact]:
    """The contacts re-read under a row lock (in id order, so two merges never deadlock)."""
    rows = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=[c.pk for c in contacts]).order_by("pk")}
    missing = [c for c in contacts if c.pk not in rows]
    if missing:
        raise NotFound(_("No such contact."), code="contact_not_found")
    return [rows[c.pk] for c in contacts]


def _timeline(conversation_ids: list[int], kind: str, actor: Membership, merge: ContactMerge) -> None:
    ConversationEvent.objects.bulk_create([
        ConversationEvent(workspace_id=merge.workspace_id, conversation_id=pk, kind=kind, actor=actor,
                          data={"merge_id": merge.pk, "source_id": merge.source_id, "target_id": merge.target_id})
        for pk in conversation_ids
    ])


# ── merge ────────────────────────────────────────────────────────────────────────────────────────────
def check_merge_contacts(actor: Membership, source: Contact, target: Contact) -> None:
    """Full agents only; two distinct, unmerged contacts of the actor's workspace."""
    require(actor, Permission.MERGE)
    if source.pk == target.pk:
        raise ValidationFailed(_("A contact cannot be merged into itself."), code="merge_self", field="source_id")
    if source.workspace_id != target.workspace_id or target.workspace_id != actor.workspace_id:
        raise ValidationFailed(_("Contacts of different workspaces cannot be merged."), code="merge_workspace",
                               field="source_id")
    if source.merged_into_id:
        raise Conflict(_("%(name)s was already merged into another contact.") % {"name": source},
                       code="contact_merged")
    if target.merged_into_id:
        raise Conflict(_("%(name)s was merged into another contact; merge into that one.") % {"name": target},
                       code="contact_merged")


def _move_suggestions(source: Contact, target: Contact, actor: Membership) -> list[dict[str, Any]]:
    """Open suggestions of `source` now concern `target`; the pair's own is accepted, a duplicate superseded."""
    moved: list[dict[str, Any]] = []
    rows = MergeSuggestion.objects.filter(Q(contact=source) | Q(candidate=source), state=Open).order_by("pk")
    for suggestion in rows:
        before = {"contact_id": suggestion.contact_id, "candidate_id": suggestion.candidate_id,
                  "state": suggestion.state}
        other = suggestion.candidate_id if suggestion.contact_id == source.pk else suggestion.contact_id
        duplicate = MergeSuggestion.objects.filter(
            Q(contact=target, candidate_id=other) | Q(contact_id=other, candidate=target)
        ).exists()
        if other == target.pk:
            suggestion.state = MergeSuggestion.State.ACCEPTED
        elif duplicate:
            suggestion.state = MergeSuggestion.State.SUPERSEDED
        elif suggestion.contact_id == source.pk:
            suggestion.contact = target
        else:
            suggestion.candidate = target
        suggestion.save(update_fields=["contact", "candidate", "state", "updated_at"])
        after = {"contact_id": suggestion.contact_id, "candidate_id": suggestion.candidate_id,
                 "state": suggestion.state}
        moved.append({"id": suggestion.pk, "before": before, "after": after})
        if suggestion.state != Open:
            publish(SuggestionResolved(workspace_id=source.workspace_id, suggestion_id=suggestion.pk,
                                       state=suggestion.state, actor_id=actor.pk))
    return moved


def _fill_target(source: Contact, target: Contact) -> None:
    for name in CONTACT_FIELDS:
        if name in MERGED_DICTS:
            setattr(target, name, {**getattr(source, name), **getattr(target, name)})
        elif not getattr(target, name) and getattr(source, name):
            setattr(target, name, getattr(source, name))
    target.name_key = identities.name_key(target.name)


def do_merge_contacts(actor: Membership, source: Contact, target: Contact) -> ContactMerge:
    """Merge `source` into `target`; returns the audit row whose snapshot `do_unmerge_contacts` restores.

    Guarantees: every identity, conversation, authored message and open suggestion of `source` now belongs
    to `target`; `source.merged_into == target`; `target`'s empty fields are filled from `source`; each moved
    conversation has a `contact_merged` timeline row; `contact.merged` is published.
    """
    source, target = _lock(source, target)
    check_merge_contacts(actor, source, target)
    moment = now()
    source_before, target_before = _fields(source), _fields(target)
    moved_identities = list(
        ContactIdentity.objects.filter(contact=source).order_by("pk").values("id", "kind", "address", "verified")
    )
    conversation_ids = list(Conversation.objects.filter(contact=source).order_by("pk").values_list("pk", flat=True))
    message_ids = list(Message.objects.filter(author_contact=source).order_by("pk").values_list("pk", flat=True))

    ContactIdentity.objects.filter(pk__in=[i["id"] for i in moved_identities]).update(contact=target, updated_at=moment)
    Conversation.objects.filter(pk__in=conversation_ids).update(contact=target, updated_at=moment)
    Message.objects.filter(pk__in=message_ids).update(author_contact=target, updated_at=moment)
    suggestions = _move_suggestions(source, target, actor)

    _fill_target(source, target)
    target.save()
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    merge = ContactMerge.objects.create(
        workspace_id=target.workspace_id, target=target, source=source, actor=actor,
        snapshot={
            "version": SNAPSHOT_VERSION,
            "source": {"before": source_before},
            "target": {"before": target_before, "after": _fields(target)},
            "identities": moved_identities,
            "conversations": conversation_ids,
            "messages": message_ids,
            "suggestions": suggestions,
        },
    )
    _timeline(conversation_ids, "contact_merged", actor, merge)
    record_change("contact.merged", merge, {"source_id": source.pk, "target_id": target.pk}, actor=actor)
    publish(ContactsMerged(workspace_id=target.workspace_id, merge_id=merge.pk, target_id=target.pk,
                           source_id=source.pk, actor_id=actor.pk, conversation_ids=conversation_ids))
    return merge


# ── unmerge ──────────────────────────────────────────────────────────────────────────────────────────
def check_unmerge_contacts(actor: Membership, merge: ContactMerge) -> None:
    """Full agents only; a merge not yet undone, whose target has not itself been merged since."""
    require(actor, Permission.MERGE)
    if merge.workspace_id != actor.workspace_id:
        raise NotFound(_("No such merge."), code="merge_not_found")
    if merge.unmerged_at is not None:
        raise Conflict(_("This merge was already undone."), code="already_unmerged")
    if merge.source.merged_into_id != merge.target_id:
        raise Conflict(_("The merged contact has changed since; this merge cannot be undone."),
                       code="merge_not_current")
    if merge.target.merged_into_id:
        raise Conflict(_("%(name)s was merged into another contact since: undo that merge first.") % {
            "name": merge.target}, code="merge_not_current")


def _restore_suggestions(merge: ContactMerge, actor: Membership) -> None:
    for item in merge.snapshot.get("suggestions", []):
        row = MergeSuggestion.objects.filter(pk=item["id"]).first()
        if row is None:
            continue
        current = {"contact_id": row.contact_id, "candidate_id": row.candidate_id, "state": row.state}
        if current != item["after"]:
            continue  # an agent acted on it after the merge: theirs stands
        before = item["before"]
        row.contact_id, row.candidate_id = before["contact_id"], before["candidate_id"]
        # The pair that was merged and is now split again is, by the agent's word, two people.
        pair = {before["contact_id"], before["candidate_id"]} == {merge.source_id, merge.target_id}
        row.state = MergeSuggestion.State.DISMISSED if pair else before["state"]
        row.save(update_fields=["contact", "candidate", "state", "updated_at"])
        if pair:
            publish(SuggestionResolved(workspace_id=merge.workspace_id, suggestion_id=row.pk, state=row.state,
                                       actor_id=actor.pk))


def _restore_fields(source: Contact, target: Contact, snapshot: dict[str, Any]) -> None:
    for name, value in snapshot["source"]["before"].items():
        setattr(source, name, value)
    source.merged_into = None
    source.name_key = identities.name_key(source.name)
    after = snapshot["target"]["after"]
    for name, value in snapshot["target"]["before"].items():
        if getattr(target, name) == after[name]:  # a field edited since the merge keeps its new value
            setattr(target, name, value)
    target.name_key = identities.name_key(target.name)
    source.save()
    target.save()


def do_unmerge_contacts(actor: Membership, merge: ContactMerge) -> ContactMerge:
    """Undo `merge`: both contacts, their identities and conversations return exactly to their prior state.

    What the merge moved goes back to `source` (identities with their prior `verified` flag, conversations,
    authored messages, suggestions); messages the customer wrote after the merge from a restored identity are
    attributed to `source` again, and conversations that mixed both sides since the merge are separated
    (`do_separate_sides`: split, handed over whole, or flagged for an agent). What else was created on
    `target` after the merge stays there. A second unmerge of the same merge is a Conflict. Each restored
    conversation gets a `contact_unmerged` timeline row.
    """
    merge = ContactMerge.objects.select_for_update().select_related("source", "target").get(pk=merge.pk)
    merge.source, merge.target = _lock(merge.source, merge.target)
    check_unmerge_contacts(actor, merge)
    source, target, snapshot = merge.source, merge.target, merge.snapshot
    moment = now()

    restored: list[int] = []
    for verified in (True, False):
        ids = [i["id"] for i in snapshot["identities"] if bool(i["verified"]) is verified]
        mine = list(ContactIdentity.objects.filter(pk__in=ids, contact=target).values_list("pk", flat=True))
        ContactIdentity.objects.filter(pk__in=mine).update(contact=source, verified=verified, updated_at=moment)
        restored += mine
    conversation_ids = list(
        Conversation.objects.filter(pk__in=snapshot["conversations"], contact=target).order_by("pk")
        .values_list("pk", flat=True)
    )
    Conversation.objects.filter(pk__in=conversation_ids).update(contact=source, updated_at=moment)
    Message.objects.filter(pk__in=snapshot["messages"], author_contact=target).update(
        author_contact=source, updated_at=moment)
    Message.objects.filter(identity_id__in=restored, author_contact=target, direction=Direction.INBOUND,
                           created_at__gte=merge.created_at).update(author_contact=source, updated_at=moment)
    # What either side wrote, or was sent, while they were one goes with the identity it came from or went to.
    separation = do_separate_sides(actor, contact_ids=[source.pk, target.pk], since=merge.created_at,
                                   merge_id=merge.pk)
    conversation_ids = sorted({*conversation_ids, *separation.handed_over})
    _restore_suggestions(merge, actor)
    _restore_fields(source, target, snapshot)

    merge.unmerged_at = moment
    merge.unmerged_by = actor
    merge.save(update_fields=["unmerged_at", "unmerged_by", "updated_at"])
    _timeline(conversation_ids, "contact_unmerged", actor, merge)
    record_change("contact.unmerged", merge, {"source_id": source.pk, "target_id": target.pk}, actor=actor)
    publish(ContactsUnmerged(workspace_id=merge.workspace_id, merge_id=merge.pk, target_id=target.pk,
                             source_id=source.pk, actor_id=actor.pk, conversation_ids=conversation_ids))
    return merge


# ── suggestions ──────────────────────────────────────────────────────────────────────────────────────
def check_open_suggestion(actor: Membership, suggestion: MergeSuggestion) -> None:
    require(actor, Permission.MERGE)
    if suggestion.state != Open:
        raise Conflict(_("This suggestion was already %(state)s.") % {"state": suggestion.get_state_display()},
                       code="suggestion_resolved")


def do_accept_suggestion(
    actor: Membership, suggestion: MergeSuggestion, *, target: Contact | None = None
) -> ContactMerge:
    """Merge the suggested pair (the newer contact into the existing one unless `target` says otherwise).

    The suggestion becomes `accepted` through the merge itself (see `_move_suggestions`).
    """
    check_open_suggestion(actor, suggestion)
    pair = {suggestion.contact_id: suggestion.contact, suggestion.candidate_id: suggestion.candidate}
    target_id = target.pk if target is not None else suggestion.candidate_id
    if target_id not in pair:
        raise ValidationFailed(_("The target must be one of the two suggested contacts."), code="invalid_target",
                               field="target_id")
    source_id = next(pk for pk in pair if pk != target_id)
    return do_merge_contacts(actor, pair[source_id], pair[target_id])


def do_dismiss_suggestion(actor: Membership, suggestion: MergeSuggestion) -> MergeSuggestion:
    """The agent says the pair are different people: the suggestion is dismissed and never made again."""
    check_open_suggestion(actor, suggestion)
    suggestion.state = MergeSuggestion.State.DISMISSED
    suggestion.save(update_fields=["state", "updated_at"])
    publish(SuggestionResolved(workspace_id=suggestion.workspace_id, suggestion_id=suggestion.pk,
                               state=suggestion.state, actor_id=actor.pk))
    return suggestion
