"""The help center's reads: only published translations of articles that are not internal and are filed in a
section of this help center, always inside the help center's workspace. Every page's reads are a handful of
indexed queries whatever the number of articles (bench/help_center.py, docs/self-service.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet

from threadline.channels.models import Channel
from threadline.core.time import now
from threadline.helpcenter import site
from threadline.knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleRelation,
    ArticleTranslation,
    Category,
    HelpCenter,
    Section,
    State,
)

SECTION_PAGE = 50  # articles per page of a section
CATEGORY_PREVIEW = 10  # articles shown per section on a category page
TOP_ARTICLES = 8
TOP_DAYS = 90
TOP_CANDIDATES = 200  # the workspace's most liked translations, any language, the page's language among them
LIKED_TTL = 600  # seconds the most liked translations are counted for
LIKED_KEY = "tl:helpcenter:liked:{}"  # per workspace
SITEMAP_ARTICLES = 200  # articles per sitemap file: 1,000 URLs in five languages, a file renders in milliseconds


def public_translations(center: HelpCenter) -> QuerySet[ArticleTranslation]:
    return ArticleTranslation.objects.filter(
        workspace_id=center.workspace_id, state=State.PUBLISHED, article__internal_only=False,
        article__section__category__help_center=center,
    )


def categories(center: HelpCenter) -> list[Category]:
    """The categories with their sections (two queries)."""
    found = list(Category.objects.filter(workspace_id=center.workspace_id, help_center=center)
                 .prefetch_related("sections").order_by("position", "id"))
    for category in found:
        category.help_center = center  # title_in reads the default language without another query
        for section in category.sections.all():
            section.category = category
    return found


def category(center: HelpCenter, category_id: int) -> Category | None:
    found = Category.objects.filter(workspace_id=center.workspace_id, help_center=center, pk=category_id).first()
    if found is not None:
        found.help_center = center
    return found


def section(center: HelpCenter, section_id: int) -> Section | None:
    found = (Section.objects.select_related("category")
             .filter(workspace_id=center.workspace_id, category__help_center=center, pk=section_id).first())
    if found is not None:
        found.category.help_center = center
    return found


def sections_of(category: Category) -> list[Section]:
    found = list(Section.objects.filter(workspace_id=category.workspace_id, category=category).order_by("position", "id"))
    for one in found:
        one.category = category
    return found


def _listing(translations: QuerySet[ArticleTranslation]) -> QuerySet[ArticleTranslation]:
    return translations.only("id", "article_id", "language", "title", "slug", "updated_at").order_by(
        "article__position", "article_id")


def _public_in(article_ids: list[int], language: str | None) -> list[ArticleTranslation]:
    """The published translations of these articles (ids the caller read in the help center's workspace, of
    articles that are not internal), in the ids' order: found through the (article, language) index."""
    rows = ArticleTranslation.objects.filter(article_id__in=article_ids, state=State.PUBLISHED).only(
        "id", "article_id", "language", "title", "slug", "updated_at")
    if language is not None:
        rows = rows.filter(language=language)
    order = {pk: n for n, pk in enumerate(article_ids)}
    return sorted(rows, key=lambda t: (order[t.article_id], t.language))


def section_articles(center: HelpCenter, section: Section, language: str, *, offset: int = 0,
                     limit: int | None = None) -> tuple[list[ArticleTranslation], bool]:
    """The section's articles `offset` to `offset + limit` in the editors' order, those of them published in
    `language`, and whether more articles follow. Paging counts articles, not translations, so a page in a
    language with fewer translations shows fewer: the price of never reading the whole section."""
    limit = limit or SECTION_PAGE
    ids = list(Article.objects.filter(workspace_id=center.workspace_id, section=section, internal_only=False)
               .order_by("position", "id").values_list("id", flat=True)[offset:offset + limit + 1])
    return _public_in(ids[:limit], language), len(ids) > limit


def most_liked(workspace_id: int) -> list[int]:
    """The workspace's TOP_CANDIDATES translations with the most "helpful" answers in the last TOP_DAYS days,
    best first. Kept in the cache for LIKED_TTL, apart from the pages: a publication (a new content version)
    re-renders the home pages without counting the feedback again; the caller keeps only the translations that
    are public now, so an unpublished one leaves the list at once (the counts may be LIKED_TTL old)."""
    key = LIKED_KEY.format(workspace_id)
    ranked = cache.get(key)
    if ranked is None:
        ranked = [row["translation_id"] for row in ArticleFeedback.objects.filter(
            created_at__gte=now() - timedelta(days=TOP_DAYS), workspace_id=workspace_id, helpful=True,
        ).values("translation_id").annotate(n=Count("id")).order_by("-n", "translation_id")[:TOP_CANDIDATES]]
        cache.set(key, ranked, LIKED_TTL)
    return ranked


def top_articles(center: HelpCenter, language: str, limit: int = TOP_ARTICLES) -> list[ArticleTranslation]:
    """The translations readers found most helpful in the last TOP_DAYS days, then the newest, in `language`.
    Both stay cheap with tens of thousands of translations: the feedback is read from its `created_at` index,
    the newest from the (workspace, state, language) index in id order, without sorting."""
    ranked = most_liked(center.workspace_id)
    by_id = {t.pk: t for t in _listing(public_translations(center).filter(pk__in=ranked, language=language))}
    found = [by_id[pk] for pk in ranked if pk in by_id][:limit]
    if len(found) < limit:
        latest = (public_translations(center).filter(language=language).exclude(pk__in=ranked)
                  .only("id", "article_id", "language", "title", "slug", "updated_at")
                  .order_by("-id")[:limit - len(found)])
        found += list(latest)
    return found


def center_languages_with_content(center: HelpCenter, enabled: list[str]) -> list[str]:
    """The enabled languages that have at least one public article (for the home page's switcher): one EXISTS
    each, which stops at the first row (a DISTINCT would read every translation)."""
    return [code for code in enabled if public_translations(center).filter(language=code).exists()]


@dataclass
class ArticlePage:
    translation: ArticleTranslation
    alternates: list[tuple[str, str]]  # (language, slug) of every public translation, this one included
    related: list[ArticleTranslation] = field(default_factory=list)
    attachments: list[ArticleAttachment] = field(default_factory=list)


def _public_articles(center: HelpCenter, ids: set[int] | list[int]) -> list[int]:
    return list(Article.objects.filter(workspace_id=center.workspace_id, internal_only=False, pk__in=ids,
                                       section__category__help_center=center).values_list("id", flat=True))


def article(center: HelpCenter, article_id: int, language: str) -> ArticlePage | None:
    """The article page's rows. The translation is found by its (article, language) index and then checked
    (workspace, published, not internal, filed in this help center): a lookup led by the workspace would
    have SQLite walk the (workspace, state, language) index over every translation."""
    translation = (ArticleTranslation.objects.select_related("article__section__category")
                   .filter(article_id=article_id, language=language, state=State.PUBLISHED).first())
    article = translation.article if translation is not None else None
    if (article is None or translation.workspace_id != center.workspace_id or article.internal_only
            or article.section is None or article.section.category.help_center_id != center.pk):
        return None
    article.section.category.help_center = center
    alternates = [(t.language, t.slug) for t in _public_in([article_id], None)]
    related_ids = {pk for pair in ArticleRelation.objects.filter(
        Q(from_article_id=article_id) | Q(to_article_id=article_id), workspace_id=center.workspace_id,
    ).values_list("from_article_id", "to_article_id") for pk in pair} - {article_id}
    related = _public_in(_public_articles(center, related_ids), language) if related_ids else []
    attachments = list(ArticleAttachment.objects.filter(workspace_id=center.workspace_id, article_id=article_id)
                       .exclude(content_type__startswith="image/").only("key", "filename", "size", "content_type")
                       .order_by("id"))
    return ArticlePage(translation, alternates, related, attachments)


def article_languages(center: HelpCenter, article_id: int) -> list[tuple[str, str]]:
    """(language, slug) of an article's public translations: for a 404 in a language it does not have."""
    if not _public_articles(center, [article_id]):
        return []
    return [(t.language, t.slug) for t in _public_in([article_id], None)]


def _sitemap_articles(center: HelpCenter) -> QuerySet[Article]:
    """The help center's public articles in id order, through its sections (a short list) rather than a join."""
    sections = Section.objects.filter(workspace_id=center.workspace_id, category__help_center=center)
    return Article.objects.filter(workspace_id=center.workspace_id, internal_only=False,
                                  section_id__in=list(sections.values_list("id", flat=True))).order_by("id")


def sitemap_rows(center: HelpCenter, page: int) -> list[tuple[int, str, str, object]] | None:
    """(article_id, language, slug, updated_at) of the public translations of the `page`th (from 1) run of
    SITEMAP_ARTICLES articles, in article order (the articles in id order, then their translations by the
    (article, language) index: no pass over every translation, no count). None past the last article."""
    ids = list(_sitemap_articles(center).values_list("id", flat=True)
               [(page - 1) * SITEMAP_ARTICLES:page * SITEMAP_ARTICLES])
    if not ids:
        return None
    return list(ArticleTranslation.objects.filter(article_id__in=ids, state=State.PUBLISHED)
                .order_by("article_id", "language").values_list("article_id", "language", "slug", "updated_at"))


def sitemap_pages(center: HelpCenter) -> int:
    return max(1, -(-_sitemap_articles(center).count() // SITEMAP_ARTICLES))


def structure_stamp(center: HelpCenter) -> tuple[int, str]:
    """What changes a help center's pages without an article event (knowledge publishes none for its settings,
    categories or sections): the latest change and the counts, in one query over these small tables."""
    found = Category.objects.filter(workspace_id=center.workspace_id, help_center=center).aggregate(
        latest_category=Max("updated_at"), n=Count("id"), latest_section=Max("sections__updated_at"),
        m=Count("sections__id"))
    moments = [m for m in (center.updated_at, found["latest_category"], found["latest_section"]) if m is not None]
    latest = max(moments)
    return int(latest.timestamp()), f"{latest.timestamp()}:{found['n']}:{found['m']}"


def public_centers() -> list[HelpCenter]:
    return list(HelpCenter.objects.filter(is_public=True).order_by("id"))


def widget_channel_id(workspace_id: int) -> int | None:
    """The workspace's web chat channel whose widget the help center embeds: the oldest active one that may be
    embedded here (no allowed origins listed, or this installation's among them: the frame refuses others)."""
    public = urlsplit(site.absolute("/"))
    here = f"{public.scheme}://{public.netloc}"
    for channel in Channel.objects.filter(workspace_id=workspace_id, kind="webchat", is_active=True).order_by("id"):
        origins = [str(o).rstrip("/") for o in channel.config.get("allowed_origins") or []]
        if not origins or here in origins:
            return channel.pk
    return None
