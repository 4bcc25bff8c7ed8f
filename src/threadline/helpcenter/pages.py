"""What every help center page shares: its URLs, the language switcher, the SEO head (canonical, hreflang,
Open Graph) and rendering in the page's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from threadline.crisis.queries import active_notice
from threadline.helpcenter import queries, site
from threadline.helpcenter.pagecache import CSRF_PLACEHOLDER, Page
from threadline.knowledge.models import ArticleTranslation, Category, HelpCenter, Section
from threadline.knowledge.rendering import slugify  # the slugs of knowledge.queries' public paths


def _slugged(name: str, center: HelpCenter, language: str, pk: int, slug: str) -> str:
    kwargs: dict[str, Any] = {"center": center.slug, "language": language, f"{name}_id": pk}
    if slug:
        return reverse(f"helpcenter:{name}", kwargs={**kwargs, "slug": slug})
    return reverse(f"helpcenter:{name}-bare", kwargs=kwargs)


def home_url(center: HelpCenter, language: str) -> str:
    return reverse("helpcenter:home", kwargs={"center": center.slug, "language": language})


def category_url(center: HelpCenter, language: str, category: Category) -> str:
    return _slugged("category", center, language, category.pk, slugify(category.title_in(language)))


def section_url(center: HelpCenter, language: str, section: Section) -> str:
    return _slugged("section", center, language, section.pk, slugify(section.title_in(language)))


def article_url(center: HelpCenter, language: str, article_id: int, slug: str) -> str:
    return _slugged("article", center, language, article_id, slug)


def translation_url(center: HelpCenter, translation: ArticleTranslation) -> str:
    return article_url(center, translation.language, translation.article_id, translation.slug)


def named_url(name: str, center: HelpCenter, language: str) -> str:
    return reverse(f"helpcenter:{name}", kwargs={"center": center.slug, "language": language})


@dataclass(frozen=True)
class Alternate:
    language: str
    name: str
    url: str  # absolute
    path: str


def alternates(pairs: list[tuple[str, str]]) -> list[Alternate]:
    """(language, path) pairs as the switcher's and hreflang's entries."""
    return [Alternate(code, site.language_name(code), site.absolute(path), path) for code, path in pairs]


def render_page(request: HttpRequest, template: str, center: HelpCenter, language: str, *, path: str,
                title: str, description: str = "", languages: list[tuple[str, str]] | None = None,
                og_type: str = "website", status: int = 200, **context: Any) -> Page:
    """`template` in `language`, with the head every page has. `languages`: (language, path) of this page in
    every language it exists in (the switcher and hreflang); the default language's is x-default."""
    langs = alternates(languages or [(language, path)])
    default = next((a for a in langs if a.language == center.default_language), langs[0] if langs else None)
    with translation.override(language):
        html = render_to_string(template, {
            "center": center, "language": language, "direction": site.direction(language),
            "title": title, "description": description[:300], "og_type": og_type,
            "canonical": site.absolute(path), "alternates": langs if len(langs) > 1 else [],
            "x_default": default.url if default and len(langs) > 1 else "",
            "switcher": langs, "current_path": path,
            "home_url": home_url(center, language),
            "search_url": named_url("search", center, language),
            "contact_url": named_url("contact", center, language),
            "portal_url": f"/portal/{center.workspace.slug}/",  # the workspace's customer portal
            "brand_css": reverse("helpcenter:brand-css", kwargs={"center": center.slug}),
            "widget_channel": queries.widget_channel_id(center.workspace_id),
            "notice": active_notice(center.workspace_id, language, center.default_language),  # a crisis banner
            "csrf_token": CSRF_PLACEHOLDER,
            **context,
        }, request=request)
    return Page(html, status)
