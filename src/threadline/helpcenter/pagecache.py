"""The help center's page cache and conditional GET.

Each workspace has a content version in Django's cache (Redis in scaled mode, so every web node agrees),
replaced by the `helpcenter` subscriber whenever knowledge publishes an article event. A rendered page is
cached under (help center, version, language, full path): a new version makes every old entry unreachable
(they expire after PAGE_TTL), so nothing needs to be found and deleted. The version is a nanosecond clock
reading and doubles as the pages' Last-Modified; the ETag adds a fingerprint of the visitor's CSRF cookie
because pages with a form carry a token made from it: the cached HTML holds a placeholder that each
response replaces with the visitor's own token.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, HttpResponsePermanentRedirect
from django.middleware.csrf import get_token
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, urlencode

KEYED_PARAMETERS = ("page", "feedback", "sent")  # the only query parameters a page reads
PAGE_TTL = 600  # seconds: a safety net only, a publication replaces the version at once
CSRF_PLACEHOLDER = "HelpCenterCsrfTokenPlaceholder0"


def _version_key(workspace_id: int) -> str:
    return f"tl:helpcenter:version:{workspace_id}"


def content_version(workspace_id: int) -> int:
    """The workspace's current content version (set on first use: an evicted version only costs a render)."""
    key = _version_key(workspace_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, time.time_ns(), None)
        version = cache.get(key) or time.time_ns()
    return int(version)


def bump(workspace_id: int) -> int:
    """A new version for the workspace's help centers: every cached page of theirs is stale from now on."""
    version = max(time.time_ns(), content_version(workspace_id) + 1)
    cache.set(_version_key(workspace_id), version, None)
    return version


@dataclass(frozen=True)
class Page:
    html: str
    status: int = 200
    location: str = ""  # a 301's target

    @property
    def cacheable(self) -> bool:
        return self.status in (200, 301)


def _fingerprint(request: HttpRequest) -> str:
    cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    return hashlib.sha256(cookie.encode()).hexdigest()[:8] if cookie else "none"


def page_address(request: HttpRequest) -> str:
    """The path with only the query parameters pages read, in one order: what a page is cached under (any
    other parameter, `?utm_source=...` or a scanner's junk, makes no entry of its own)."""
    kept = urlencode(sorted((key, request.GET[key][:20]) for key in KEYED_PARAMETERS if key in request.GET))
    return f"{request.path}?{kept}" if kept else request.path


def cached_page(request: HttpRequest, *, workspace_id: int, center_id: int, language: str,
                render: Callable[[], Page], stamp: tuple[int, str] = (0, "")) -> HttpResponse:
    """The page for this request from the cache, rendered by `render()` on a miss; 304 when the visitor's copy
    is current. Pages and permanent redirects are cached; a 404 is not (any path would make an entry).
    `stamp`: (seconds, text) of what else the page shows that changes without an article event (the help
    center's settings, its categories and sections), part of the key and of Last-Modified."""
    version = content_version(workspace_id)
    moment, marks = stamp
    path_hash = hashlib.sha256(f"{marks}\0{page_address(request)}".encode()).hexdigest()[:24]
    etag = f'"{version:x}-{path_hash[:10]}-{_fingerprint(request)}"'
    last_modified = max(version // 1_000_000_000, moment)
    if request.method in ("GET", "HEAD"):
        unchanged = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if isinstance(unchanged, HttpResponseNotModified):
            return _headers(unchanged, etag, last_modified, private=False)
    key = f"tl:helpcenter:page:{center_id}:{version}:{language}:{path_hash}"
    page = cache.get(key)
    if page is None:
        page = render()
        if page.cacheable:
            cache.set(key, page, PAGE_TTL)
    if page.location:
        return HttpResponsePermanentRedirect(page.location)
    html = page.html
    private = CSRF_PLACEHOLDER in html
    if private:
        html = html.replace(CSRF_PLACEHOLDER, get_token(request))
    response = HttpResponse(html, status=page.status, content_type="text/html; charset=utf-8")
    response["Content-Language"] = language
    return _headers(response, etag, last_modified, private=private) if page.status == 200 else response


def _headers(response: HttpResponse, etag: str, last_modified: int, *, private: bool) -> HttpResponse:
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    # revalidate every time (cheap: a 304 from the cache); a page with a form holds this visitor's token
    response["Cache-Control"] = "private, no-cache" if private else "public, no-cache"
    response["Vary"] = "Cookie"
    return response
