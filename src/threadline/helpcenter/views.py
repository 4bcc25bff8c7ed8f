"""The help center's pages: home, category, section, article and search, per brand and language; any other
path under a help center is a 404 that stays inside it. Readable without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, NamedTuple
from urllib.parse import unquote

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.http import require_GET, require_http_methods

from threadline.conversations.attachments import attachment_response
from threadline.core.errors import NotFound
from threadline.helpcenter import pages, queries, site
from threadline.helpcenter.pagecache import Page, cached_page, page_address
from threadline.knowledge.models import HelpCenter
from threadline.knowledge.queries import attachment_url, public_attachment, search_articles
from threadline.search.analysis import query_groups
from threadline.search.highlight import highlight

SEARCH_RESULTS = 20
SEARCH_MAX_CHARS = 200

View = Callable[..., HttpResponse]


class Link(NamedTuple):
    title: str
    url: str


def not_found_page(request: HttpRequest, center: HelpCenter, language: str, *,
                   languages: list[tuple[str, str]] | None = None) -> Page:
    """A 404 with the help center around it: its home, search and contact links, and the languages in which
    the page does exist (an article not translated into this one)."""
    return pages.render_page(request, "helpcenter/not_found.html", center, language, path=request.path,
                             title=_("Page not found"), status=404,
                             available=pages.alternates(languages or []))


def _respond(page: Page) -> HttpResponse:
    return HttpResponse(page.html, status=page.status, content_type="text/html; charset=utf-8")


def help_center_page(view: View) -> View:
    """Resolves `center` (slug) and `language` for the view, which gets the HelpCenter; an unknown help
    center is a bare 404, an unknown language one inside the help center."""

    @wraps(view)
    def wrapper(request: HttpRequest, center: str, language: str, **kwargs: Any) -> HttpResponse:
        found = site.public_center(center)
        if language not in site.languages_of(found):
            return _respond(not_found_page(request, found, site.negotiate(request, found)))
        with override(language):  # messages in the page's language, not the browser's
            return view(request, found, language, **kwargs)

    return wrapper


@require_GET
def center_root(request: HttpRequest, center: str) -> HttpResponse:
    """`/help/<slug>/`: to the visitor's language."""
    found = site.public_center(center)
    response = HttpResponseRedirect(pages.home_url(found, site.negotiate(request, found)))
    response["Vary"] = "Accept-Language"
    return response


@require_GET
def anywhere_else(request: HttpRequest, center: str, rest: str) -> HttpResponse:
    found = site.public_center(center)
    first = rest.split("/", 1)[0]
    language = first if first in site.languages_of(found) else site.negotiate(request, found)
    return _respond(not_found_page(request, found, language))


def cached(request: HttpRequest, center: HelpCenter, language: str, render: Callable[[], Page]) -> HttpResponse:
    return cached_page(request, workspace_id=center.workspace_id, center_id=center.pk, language=language,
                       render=render, stamp=queries.structure_stamp(center))


@require_GET
@help_center_page
def home(request: HttpRequest, center: HelpCenter, language: str) -> HttpResponse:
    def render() -> Page:
        languages = queries.center_languages_with_content(center, site.languages_of(center)) or [language]
        return pages.render_page(
            request, "helpcenter/home.html", center, language, path=pages.home_url(center, language),
            title=center.name, description=_("Answers from %(name)s: guides and frequently asked questions.")
            % {"name": center.name},
            languages=[(code, pages.home_url(center, code)) for code in languages],
            categories=[{"title": c.title_in(language), "url": pages.category_url(center, language, c),
                         "description": (c.descriptions or {}).get(language, ""),
                         "sections": [Link(s.title_in(language), pages.section_url(center, language, s))
                                      for s in c.sections.all()]}
                        for c in queries.categories(center)],
            top=_links(center, queries.top_articles(center, language)),
        )

    return cached(request, center, language, render)


def _links(center: HelpCenter, translations: list) -> list[Link]:
    return [Link(t.title, pages.translation_url(center, t)) for t in translations]


def _moved(request: HttpRequest, canonical: str) -> Page | None:
    """A permanent redirect when the path's slug is not the current one (a renamed title keeps old links)."""
    if request.path != unquote(canonical):  # reverse() percent-encodes a Hebrew slug, request.path is decoded
        return Page("", 301, canonical + page_address(request).removeprefix(request.path))
    return None


@require_GET
@help_center_page
def category_view(request: HttpRequest, center: HelpCenter, language: str, category_id: int,
                  slug: str = "") -> HttpResponse:
    def render() -> Page:
        category = queries.category(center, category_id)
        if category is None:
            return not_found_page(request, center, language)
        path = pages.category_url(center, language, category)
        if moved := _moved(request, path):
            return moved
        sections = []
        for section in queries.sections_of(category):
            articles, more = queries.section_articles(center, section, language, limit=queries.CATEGORY_PREVIEW)
            sections.append({"title": section.title_in(language), "url": pages.section_url(center, language, section),
                             "articles": _links(center, articles), "more": more})
        return pages.render_page(
            request, "helpcenter/category.html", center, language, path=path, sections=sections,
            **_titled(center, language, category, pages.category_url),
        )

    return cached(request, center, language, render)


def _titled(center: HelpCenter, language: str, node: Any, url: Callable[..., str]) -> dict[str, Any]:
    """A category's or section's title, description and languages (those it has a title in)."""
    description = (node.descriptions or {}).get(language, "")
    languages = [code for code in site.languages_of(center) if code in (node.titles or {})] or [language]
    return {"title": node.title_in(language), "description": description, "description_text": description,
            "languages": [(code, url(center, code, node)) for code in languages]}


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@require_GET
@help_center_page
def section_view(request: HttpRequest, center: HelpCenter, language: str, section_id: int,
                 slug: str = "") -> HttpResponse:
    number = _page_number(request)

    def render() -> Page:
        section = queries.section(center, section_id)
        if section is None:
            return not_found_page(request, center, language)
        path = pages.section_url(center, language, section)
        if moved := _moved(request, path):
            return moved
        articles, more = queries.section_articles(center, section, language,
                                                  offset=(number - 1) * queries.SECTION_PAGE)
        if number > 1 and not articles and not more:
            return not_found_page(request, center, language)
        return pages.render_page(
            request, "helpcenter/section.html", center, language, path=path,
            **_titled(center, language, section, pages.section_url),
            category_link=Link(section.category.title_in(language),
                               pages.category_url(center, language, section.category)),
            articles=_links(center, articles), page=number,
            previous_page=number - 1 if number > 1 else 0,
            next_page=number + 1 if more else 0,
        )

    return cached(request, center, language, render)


def render_article(request: HttpRequest, center: HelpCenter, language: str, found: queries.ArticlePage, *,
                   feedback: str = "", errors: dict[str, list[str]] | None = None,
                   values: dict[str, str] | None = None, status: int = 200) -> Page:
    translation = found.translation
    section = translation.article.section
    return pages.render_page(
        request, "helpcenter/article.html", center, language, path=pages.translation_url(center, translation),
        title=translation.title, description=translation.body_text[:300], og_type="article", status=status,
        languages=[(code, pages.article_url(center, code, translation.article_id, slug))
                   for code, slug in found.alternates],
        translation=translation,
        section_link=Link(section.title_in(language), pages.section_url(center, language, section)),
        category_link=Link(section.category.title_in(language),
                           pages.category_url(center, language, section.category)),
        related=_links(center, found.related),
        attachments=[(a, attachment_url(a)) for a in found.attachments],
        feedback_url=pages.reverse("helpcenter:feedback", kwargs={
            "center": center.slug, "language": language, "article_id": translation.article_id}),
        feedback=feedback, errors=errors or {}, values=values or {},
    )


@require_GET
@help_center_page
def article_view(request: HttpRequest, center: HelpCenter, language: str, article_id: int,
                 slug: str = "") -> HttpResponse:
    feedback = request.GET.get("feedback", "")

    def render() -> Page:
        found = queries.article(center, article_id, language)
        if found is None:
            others = [(code, pages.article_url(center, code, article_id, s))
                      for code, s in queries.article_languages(center, article_id)]
            return not_found_page(request, center, language, languages=others)
        if moved := _moved(request, pages.translation_url(center, found.translation)):
            return moved
        return render_article(request, center, language, found,
                              feedback=feedback if feedback in ("sent", "forwarded") else "")

    return cached(request, center, language, render)


@require_http_methods(["GET", "HEAD"])
@help_center_page
def search_view(request: HttpRequest, center: HelpCenter, language: str) -> HttpResponse:
    """Search results (not cached: every query string would be an entry), with the matched words marked."""
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_CHARS]
    results = []
    if query:
        groups = query_groups(query)
        for hit in search_articles(center.workspace_id, query, language=language, brand_id=center.brand_id,
                                   limit=SEARCH_RESULTS):
            if hit.path:
                results.append((hit, highlight(hit.body_text or hit.snippet, groups, prefix_last=True),
                                highlight(hit.title, groups, prefix_last=True, whole=True)))
    page = pages.render_page(
        request, "helpcenter/search.html", center, language, path=pages.named_url("search", center, language),
        title=_("Search results for “%(query)s”") % {"query": query} if query else _("Search"),
        languages=[(code, pages.named_url("search", center, code)) for code in site.languages_of(center)],
        query=query, results=results, robots="noindex",
    )
    return _respond(page)


@require_GET
def file_view(request: HttpRequest, key: str, filename: str) -> HttpResponse:
    """A file of an article (`knowledge.queries.attachment_url`): images inline, anything else downloaded;
    only while the article is public on a public help center."""
    attachment = public_attachment(key)
    section = attachment.article.section if attachment is not None else None
    if (attachment is None or attachment.filename != filename or section is None
            or not section.category.help_center.is_public):
        raise Http404(_("No such file."))
    try:
        response = attachment_response(attachment, inline_images=True)
    except NotFound:
        raise Http404(_("No such file.")) from None
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def brand_css(request: HttpRequest, center: str) -> HttpResponse:
    """The brand's colours as CSS custom properties (a stylesheet: the pages' policy allows no inline style)."""
    found = site.public_center(center)
    css = (f":root {{ --brand: {_color(found.brand.primary_color, '#1d4ed8')}; "
           f"--brand-soft: {_color(found.brand.accent_color, '#e8efff')}; }}\n")
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def _color(value: str, default: str) -> str:
    value = (value or "").strip()
    return value if len(value) in (4, 7) and value.startswith("#") and all(
        c in "0123456789abcdefABCDEF" for c in value[1:]) else default
