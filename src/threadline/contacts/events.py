from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ContactCreated(DomainEvent):
    type = "contact.created"
    contact_id: int
    name: str


@dataclass(frozen=True, kw_only=True)
class ContactUpdated(DomainEvent):
    type = "contact.updated"
    contact_id: int
    changes: dict[str, object]


@dataclass(frozen=True, kw_only=True)
class IdentityLinked(DomainEvent):
    type = "contact.identity_linked"
    contact_id: int
    identity_id: int
    kind: str
    address: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ContactDeleted(DomainEvent):
    type = "contact.deleted"
    contact_id: int
    actor_id: int | None


@dataclass(frozen=True, kw_only=True)
class IdentityRemoved(DomainEvent):
    type = "contact.identity_removed"
    contact_id: int
    identity_id: int
    kind: str
    address: str


@dataclass(frozen=True, kw_only=True)
class MergeSuggested(DomainEvent):
    """A suggestion was recorded (or found new reasons); `reasons` are `{"code", "message", "params"}`."""

    type = "contact.merge_suggested"
    suggestion_id: int
    contact_id: int
    candidate_id: int
    score: float
    reasons: list[dict[str, object]]


@dataclass(frozen=True, kw_only=True)
class SuggestionResolved(DomainEvent):
    type = "contact.suggestion_resolved"
    suggestion_id: int
    state: str
    actor_id: int | None


@dataclass(frozen=True, kw_only=True)
class ContactsMerged(DomainEvent):
    type = "contact.merged"
    merge_id: int
    target_id: int
    source_id: int
    actor_id: int | None
    conversation_ids: list[int]


@dataclass(frozen=True, kw_only=True)
class ContactsUnmerged(DomainEvent):
    type = "contact.unmerged"
    merge_id: int
    target_id: int
    source_id: int
    actor_id: int | None
    conversation_ids: list[int]
