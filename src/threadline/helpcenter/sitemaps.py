"""Sitemaps: `/help/sitemap.xml` indexes every public help center's sitemap, `/help/<slug>/sitemap.xml` indexes
that help center's files, and each `/help/<slug>/sitemap-<n>.xml` lists the published translations of up to
SITEMAP_ARTICLES articles with their lastmod and `xhtml:link` alternates (plus the home pages in file 1).
Internal and unpublished articles never appear."""

from __future__ import annotations

from itertools import groupby

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET

from threadline.helpcenter import pages, queries, site
from threadline.helpcenter.pagecache import Page
from threadline.helpcenter.views import cached
from threadline.knowledge.models import HelpCenter

XML = "application/xml; charset=utf-8"


def _xml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type=XML)


def _center(slug: str) -> HelpCenter:
    try:
        return site.public_center(slug)
    except site.NoSuchCenter:
        raise Http404("No such help center.") from None


def _files(center: HelpCenter) -> list[str]:
    return [site.absolute(reverse("helpcenter:sitemap-page", kwargs={"center": center.slug, "page": n}))
            for n in range(1, queries.sitemap_pages(center) + 1)]


@require_GET
def index_view(request: HttpRequest) -> HttpResponse:
    files = [url for center in queries.public_centers() for url in _files(center)]
    return _xml(render_to_string("helpcenter/sitemap_index.xml", {"files": files}))


def _as_xml(request: HttpRequest, center: HelpCenter, render) -> HttpResponse:  # noqa: ANN001 - a callable
    response = cached(request, center, "xml", render)
    response["Content-Type"] = XML
    if "Content-Language" in response:
        del response["Content-Language"]
    return response


@require_GET
def center_index_view(request: HttpRequest, center: str) -> HttpResponse:
    found = _center(center)
    return _as_xml(request, found, lambda: Page(render_to_string("helpcenter/sitemap_index.xml",
                                                                 {"files": _files(found)})))


@require_GET
def urlset_view(request: HttpRequest, center: str, page: int) -> HttpResponse:
    found = _center(center)

    def render() -> Page:
        entries = []
        if page == 1:
            homes = [(code, pages.home_url(found, code)) for code in site.languages_of(found)]
            links = pages.alternates(homes)
            entries += [{"loc": link.url, "lastmod": None, "alternates": links if len(links) > 1 else []}
                        for link in links]
        rows = queries.sitemap_rows(found, page)
        if not rows and page > 1:
            return Page("", 404)
        default = found.default_language
        for _article_id, group in groupby(rows, key=lambda row: row[0]):
            translations = list(group)
            links = pages.alternates([(language, pages.article_url(found, language, article_id, slug))
                                      for article_id, language, slug, _updated in translations])
            fallback = next((link for link in links if link.language == default), links[0])
            for link, (_a, _l, _s, updated) in zip(links, translations, strict=True):
                entries.append({"loc": link.url, "lastmod": updated, "alternates": links if len(links) > 1 else [],
                                "x_default": fallback.url if len(links) > 1 else ""})
        return Page(render_to_string("helpcenter/sitemap.xml", {"entries": entries}))

    response = _as_xml(request, found, render)
    if response.status_code == 404:
        raise Http404("No such sitemap file.")
    return response
