"""The knowledge base's events. Each names the article and the translations it touched, so subscribers (the
search index) can rebuild what they keep from the current rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from threadline.events.types import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ArticlePublished(DomainEvent):
    """A translation was published, or a published one was edited: the help center shows this text now."""

    type = "article.published"
    article_id: int
    translation_id: int
    language: str
    translation_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ArticleUpdated(DomainEvent):
    """Created, edited, moved, labelled, submitted, archived, restored: any change but (un)publishing."""

    type = "article.updated"
    article_id: int
    translation_ids: list[int] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ArticleUnpublished(DomainEvent):
    """A published translation went back to draft or to the archive: the help center no longer shows it."""

    type = "article.unpublished"
    article_id: int
    translation_id: int
    language: str
    translation_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ArticleDeleted(DomainEvent):
    """An article was deleted with its translations (those that were published are in `published`): the help
    center, the answer bot and search no longer have it (its search documents left with the rows)."""

    type = "article.deleted"
    article_id: int
    translation_ids: list[int] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)


TYPES = frozenset({ArticlePublished.type, ArticleUpdated.type, ArticleUnpublished.type, ArticleDeleted.type})
