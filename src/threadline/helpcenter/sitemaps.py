"""Sitemaps: `/help/sitemap.xml` indexes every public help center's sitemap, `/help/<slug>/sitemap.xml` indexes
that help center's files, and each `/help/<slug>/sitemap-<n>.xml` lists the published translations of up to
SITEMAP_ARTICLES articles with their lastmod and `xhtml:link` alternates (plus the home pages in file 1).
Internal and unpublished articles never appear."""

from __future__ import annotations

import re
from itertools import groupby
from xml.sax.saxutils import escape, quoteattr

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET

from threadline.helpcenter import pages, queries, site
from threadline.helpcenter.pagecache import Page
from threadline.helpcenter.views import cached
from threadline.knowledge.models import HelpCenter

XML = "application/xml; charset=utf-8"
NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _percent_encoded(slug: str) -> str:
    """A slug as its URI path segment: `slugify` keeps only letters, digits, marks and hyphens, so only the
    non-ASCII runs need encoding (UTF-8, %XX), done per run rather than per character as `iri_to_uri` does
    (a file holds a thousand of them)."""
    return slug if slug.isascii() else NON_ASCII.sub(lambda run: "%" + run[0].encode().hex("%").upper(), slug)


def _xml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type=XML)


def _files(center: HelpCenter) -> list[str]:
    return [site.absolute(reverse("helpcenter:sitemap-page", kwargs={"center": center.slug, "page": n}))
            for n in range(1, queries.sitemap_pages(center) + 1)]


@require_GET
def index_view(request: HttpRequest) -> HttpResponse:
    files = [url for center in queries.public_centers() for url in _files(center)]
    return _xml(render_to_string("helpcenter/sitemap_index.xml", {"files": files}))


def urlset(groups: list[list[tuple[str, str, object]]], default: str) -> str:
    """The <urlset>: one <url> per page in each group, with the group's other languages as alternates (plain
    string building: a file holds thousands of entries, a template loop would dominate its render time)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           'xmlns:xhtml="http://www.w3.org/1999/xhtml">']
    for group in groups:
        links = ""
        if len(group) > 1:
            fallback = next((url for language, url, _m in group if language == default), group[0][1])
            links = "".join(f'\n<xhtml:link rel="alternate" hreflang={quoteattr(language)} href={quoteattr(url)}/>'
                            for language, url, _m in group)
            links += f'\n<xhtml:link rel="alternate" hreflang="x-default" href={quoteattr(fallback)}/>'
        for _language, url, modified in group:
            lastmod = f"<lastmod>{modified.isoformat()}</lastmod>" if modified else ""
            out.append(f"<url><loc>{escape(url)}</loc>{lastmod}{links}</url>")
    out.append("</urlset>\n")
    return "\n".join(out)


def _as_xml(request: HttpRequest, center: HelpCenter, render) -> HttpResponse:  # noqa: ANN001 - a callable
    response = cached(request, center, "xml", render)
    response["Content-Type"] = XML
    if "Content-Language" in response:
        del response["Content-Language"]
    return response


@require_GET
def center_index_view(request: HttpRequest, center: str) -> HttpResponse:
    found = site.public_center(center)
    return _as_xml(request, found, lambda: Page(render_to_string("helpcenter/sitemap_index.xml",
                                                                 {"files": _files(found)})))


@require_GET
def urlset_view(request: HttpRequest, center: str, page: int) -> HttpResponse:
    found = site.public_center(center)

    def render() -> Page:
        groups: list[list[tuple[str, str, object]]] = []  # per article or home: (language, absolute URL, lastmod)
        if page == 1:
            groups.append([(code, site.absolute(pages.home_url(found, code)), None)
                           for code in site.languages_of(found)])
        rows = queries.sitemap_rows(found, page) if page >= 1 else None
        if rows is None and page != 1:
            return Page("", 404)
        prefix = site.absolute(reverse("helpcenter:root", kwargs={"center": found.slug}))
        for article_id, translations in groupby(rows or [], key=lambda row: row[0]):
            groups.append([(language, f"{prefix}{language}/articles/{article_id}-{_percent_encoded(slug)}/"
                            if slug else f"{prefix}{language}/articles/{article_id}/", updated)
                           for _a, language, slug, updated in translations])
        return Page(urlset(groups, found.default_language))

    response = _as_xml(request, found, render)
    if response.status_code == 404:
        raise Http404("No such sitemap file.")
    return response
