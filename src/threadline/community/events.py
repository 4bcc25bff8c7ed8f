"""The community's events (published after commit through the outbox; outbound webhooks see them)."""

from __future__ import annotations

from dataclasses import dataclass

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PostCreated(DomainEvent):
    """A member or agent posted in the community (a new topic's first post, or a reply)."""

    type = "community.post_created"
    forum_id: int
    topic_id: int
    post_id: int
    author_id: int
    held: bool


@dataclass(frozen=True, kw_only=True)
class PostModerated(DomainEvent):
    """A moderator approved, hid, unhid or marked a post as spam."""

    type = "community.post_moderated"
    post_id: int
    topic_id: int
    operation: str
    actor_id: int


@dataclass(frozen=True, kw_only=True)
class TopicModerated(DomainEvent):
    """A moderator locked, unlocked, hid, unhid or merged a topic."""

    type = "community.topic_moderated"
    topic_id: int
    operation: str
    actor_id: int


@dataclass(frozen=True, kw_only=True)
class AnswerAccepted(DomainEvent):
    """A topic's author (or a moderator) accepted a reply as its answer."""

    type = "community.answer_accepted"
    topic_id: int
    post_id: int
