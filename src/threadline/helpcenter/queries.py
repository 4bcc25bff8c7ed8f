"""The help center's reads: only published translations of articles that are not internal and are filed in a
section of this help center, always inside the help center's workspace. Every page's reads are a handful of
indexed queries whatever the number of articles (bench/help_center.py, docs/self-service.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db.models import Count, Max, Q, QuerySet

from threadline.channels.models import Channel
from threadline.helpcenter import site
from threadline.knowledge.models import (
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
SITEMAP_ARTICLES = 1000  # articles per sitemap file (each with all its languages: at most 50,000 URLs)


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


def section_articles(center: HelpCenter, section: Section, language: str, *, offset: int = 0,
                     limit: int = SECTION_PAGE) -> list[ArticleTranslation]:
    rows = public_translations(center).filter(article__section=section, language=language)
    return list(_listing(rows)[offset:offset + limit])


def section_count(center: HelpCenter, section: Section, language: str) -> int:
    return public_translations(center).filter(article__section=section, language=language).count()


def top_articles(center: HelpCenter, language: str, limit: int = TOP_ARTICLES) -> list[ArticleTranslation]:
    """The translations readers found most helpful, then the latest published, in `language`."""
    liked = list(ArticleFeedback.objects.filter(
        workspace_id=center.workspace_id, helpful=True, translation__language=language,
        translation__state=State.PUBLISHED, translation__article__internal_only=False,
        translation__article__section__category__help_center=center,
    ).values("translation_id").annotate(n=Count("id")).order_by("-n", "translation_id")[:limit])
    ranked = [row["translation_id"] for row in liked]
    by_id = {t.pk: t for t in _listing(public_translations(center).filter(pk__in=ranked))}
    found = [by_id[pk] for pk in ranked if pk in by_id]
    if len(found) < limit:
        latest = (public_translations(center).filter(language=language).exclude(pk__in=ranked)
                  .only("id", "article_id", "language", "title", "slug", "updated_at")
                  .order_by("-published_at", "-id")[:limit - len(found)])
        found += list(latest)
    return found


def center_languages_with_content(center: HelpCenter, enabled: list[str]) -> list[str]:
    """The enabled languages that have at least one public article (for the home page's switcher)."""
    present = set(public_translations(center).filter(language__in=enabled).values_list("language", flat=True)
                  .distinct())
    return [code for code in enabled if code in present]


@dataclass
class ArticlePage:
    translation: ArticleTranslation
    alternates: list[tuple[str, str]]  # (language, slug) of every public translation, this one included
    related: list[ArticleTranslation] = field(default_factory=list)
    attachments: list[ArticleAttachment] = field(default_factory=list)


def article(center: HelpCenter, article_id: int, language: str) -> ArticlePage | None:
    translation = (public_translations(center).select_related("article__section__category")
                   .filter(article_id=article_id, language=language).first())
    if translation is None:
        return None
    translation.article.section.category.help_center = center
    alternates = list(public_translations(center).filter(article_id=article_id)
                      .order_by("language").values_list("language", "slug"))
    related_ids = {pk for pair in ArticleRelation.objects.filter(
        Q(from_article_id=article_id) | Q(to_article_id=article_id), workspace_id=center.workspace_id,
    ).values_list("from_article_id", "to_article_id") for pk in pair} - {article_id}
    related = list(_listing(public_translations(center).filter(article_id__in=related_ids, language=language)))
    attachments = list(ArticleAttachment.objects.filter(workspace_id=center.workspace_id, article_id=article_id)
                       .exclude(content_type__startswith="image/").only("key", "filename", "size", "content_type").order_by("id"))
    return ArticlePage(translation, alternates, related, attachments)


def article_languages(center: HelpCenter, article_id: int) -> list[tuple[str, str]]:
    """(language, slug) of an article's public translations: for a 404 in a language it does not have."""
    return list(public_translations(center).filter(article_id=article_id).order_by("language")
                .values_list("language", "slug"))


def sitemap_rows(center: HelpCenter, page: int) -> list[tuple[int, str, str, object]]:
    """(article_id, language, slug, updated_at) of the public translations of the `page`th (from 1) run of
    SITEMAP_ARTICLES articles, in article order."""
    article_ids = list(public_translations(center).values_list("article_id", flat=True).distinct()
                       .order_by("article_id")[(page - 1) * SITEMAP_ARTICLES:page * SITEMAP_ARTICLES])
    if not article_ids:
        return []
    return list(public_translations(center).filter(article_id__in=article_ids)
                .order_by("article_id", "language").values_list("article_id", "language", "slug", "updated_at"))


def sitemap_pages(center: HelpCenter) -> int:
    articles = public_translations(center).values("article_id").distinct().count()
    return max(1, -(-articles // SITEMAP_ARTICLES))


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
