"""Request and response shapes of /api/v1/knowledge."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import Id, Input, PageQuery
from threadline.knowledge.models import Article, ArticleTranslation, ArticleVersion, State
from threadline.knowledge.queries import article_path, attachment_url, feedback_counts

Titles = dict[str, str]
TITLES = Field(description='Per language: {"en": "Orders", "he": "הזמנות"} (at least one)', max_length=50)


class HelpCenterIn(Input):
    brand_id: Id
    slug: str = Field(min_length=1, max_length=64, description="The public address: /help/<slug>/")
    name: str = Field("", max_length=200)
    default_language: str = Field("en", max_length=16)
    languages: list[str] = Field(default_factory=list, max_length=50)
    is_public: bool = True


class HelpCenterOut(Schema):
    id: int
    brand_id: int
    slug: str
    name: str
    default_language: str
    languages: list[str]
    is_public: bool


class CategoryIn(Input):
    help_center_id: Id
    titles: Titles = TITLES
    descriptions: Titles = Field(default_factory=dict, max_length=50)
    position: int = Field(0, ge=0, le=1_000_000)


class CategoryOut(Schema):
    id: int
    help_center_id: int
    titles: Titles
    descriptions: Titles
    position: int


class SectionIn(Input):
    category_id: Id
    titles: Titles = TITLES
    descriptions: Titles = Field(default_factory=dict, max_length=50)
    position: int = Field(0, ge=0, le=1_000_000)


class SectionOut(Schema):
    id: int
    category_id: int
    titles: Titles
    descriptions: Titles
    position: int


class TranslationIn(Input):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field("", max_length=200_000, description="Markdown, or HTML (sanitized when stored)")
    body_format: Literal["markdown", "html"] = "markdown"


class ArticleIn(TranslationIn):
    section_id: Id | None = Field(None, description="Where it is filed (required to publish)")
    language: str = Field(min_length=2, max_length=16)
    internal_only: bool = False
    labels: list[str] = Field(default_factory=list, max_length=20)


class ArticlePatch(Input):
    section_id: Id | None = Field(None, description="Move it to this section")
    unfile: bool = Field(False, description="Take it out of its section (a draft only)")
    internal_only: bool | None = None
    position: int | None = Field(None, ge=0, le=1_000_000)
    labels: list[str] | None = Field(None, max_length=20)


class TranslationSummary(Schema):
    id: int
    language: str
    title: str
    state: State
    published_at: dt.datetime | None
    updated_at: dt.datetime
    path: str = Field(description="The public /help/ path; empty unless published on a public article")

    @staticmethod
    def resolve_path(obj: ArticleTranslation) -> str:
        return article_path(obj)


class TranslationOut(TranslationSummary):
    article_id: int
    slug: str
    body_source: str
    body_format: str
    body_html: str = Field(description="Sanitized HTML as readers see it")
    body_text: str
    helpful: int
    not_helpful: int

    @staticmethod
    def resolve_helpful(obj: ArticleTranslation) -> int:
        return feedback_counts(obj)["helpful"]

    @staticmethod
    def resolve_not_helpful(obj: ArticleTranslation) -> int:
        return feedback_counts(obj)["not_helpful"]


class ArticleFileOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str = Field(description="Where readers fetch it while the article is published (images inline)")

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return attachment_url(obj)


class ArticleOut(Schema):
    id: int
    section_id: int | None
    position: int
    internal_only: bool
    source_url: str
    labels: list[str]
    translations: list[TranslationSummary]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_labels(obj: Article) -> list[str]:
        return sorted(label.name for label in obj.labels.all())

    @staticmethod
    def resolve_translations(obj: Article) -> list[Any]:
        return sorted(obj.translations.all(), key=lambda t: t.language)


class ArticleDetailOut(ArticleOut):
    related_ids: list[int]
    attachments: list[ArticleFileOut]

    @staticmethod
    def resolve_related_ids(obj: Article) -> list[int]:
        return sorted(a.pk for a in obj.related.all())

    @staticmethod
    def resolve_attachments(obj: Article) -> list[Any]:
        return list(obj.attachments.all())


class ArticlePage(Schema):
    items: list[ArticleOut]
    next_cursor: str | None


class ArticleFilter(PageQuery):
    state: State | None = None
    language: str | None = Field(None, max_length=16)
    label: str | None = Field(None, max_length=64)
    section_id: Id | None = None


class VersionOut(Schema):
    number: int
    title: str
    body_source: str
    body_format: str
    author_id: int | None
    note: str
    created_at: dt.datetime

    @staticmethod
    def resolve_author_id(obj: ArticleVersion) -> int | None:
        return obj.author_id


class DiffLineOut(Schema):
    op: Literal["+", "-", " ", "@"] = Field(description="added, removed, unchanged, or a hunk header")
    text: str


class DiffOut(Schema):
    from_number: int
    to_number: int
    lines: list[DiffLineOut]


class DiffQuery(Schema):
    against: int | None = Field(None, ge=1, description="The older version (default: the one before)")


class ArticleSearchQuery(Schema):
    q: str = Field(min_length=1, max_length=200)
    language: str | None = Field(None, max_length=16, description="Only this language")
    brand_id: Id | None = Field(None, description="Only this brand's help center")
    include_internal: bool = Field(True, description="Internal-only articles and unpublished translations too")
    limit: int = Field(10, ge=1, le=50)


class ArticleHitOut(Schema):
    article_id: int
    translation_id: int
    language: str
    title: str
    snippet: str
    score: float = Field(description="0..1, comparable across queries")
    path: str
