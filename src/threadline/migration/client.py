"""The HTTP side of an import: GET a provider's JSON through the one outbound client (`core.http`), with its
authentication, and with the provider's rate limits honoured.

- 429: wait what `Retry-After` (Zendesk, Freshdesk) or `X-RateLimit-Retry-After` (Help Scout) says, then again;
- a remaining quota of 0 (`X-RateLimit-Remaining`, Help Scout's `X-RateLimit-Remaining-Minute`): pause before
  the next request instead of running into the 429;
- 5xx and connection failures: retried with exponential backoff, `attempts` times in all;
- 401: `reauthenticate()` once (Help Scout's token expired), then the request again;
- anything else 4xx: `SourceError` with the provider's status, which the runner reports.
`sleep` is injectable so tests see the waits without waiting.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlparse

import httpx

from threadline.core import http
from threadline.core.destinations import DestinationRefused

MAX_WAIT = 300.0  # the longest single pause a provider's Retry-After may impose
LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class SourceError(Exception):
    """The provider refused or failed for good: `status` 0 when it could not be reached."""

    def __init__(self, message: str, *, status: int = 0, code: str = "source_error") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def next_link(headers: dict[str, str]) -> str:
    """The `rel="next"` URL of an RFC 8288 `Link` header (Freshdesk's pagination), or ''."""
    value = headers.get("link") or headers.get("Link") or ""
    found = LINK_NEXT.search(value)
    return found.group(1) if found else ""


def _header(headers: dict[str, str], *names: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in names:
        if lowered.get(name.lower()) not in (None, ""):
            return str(lowered[name.lower()])
    return ""


def _seconds(value: str, default: float) -> float:
    try:
        return max(0.0, min(float(value), MAX_WAIT))
    except ValueError:
        return default


@dataclass
class SourceClient:
    base_url: str
    headers: Callable[[], dict[str, str]] = dict
    reauthenticate: Callable[[], None] | None = None
    attempts: int = 5
    backoff: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    waits: list[float] = field(default_factory=list)
    requests: int = 0

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        url = path if path.startswith(("http://", "https://")) else urljoin(self.base_url.rstrip("/") + "/", path.lstrip("/"))
        if params:
            url += ("&" if "?" in url else "?") + urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return url

    def _wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleep(seconds)

    def get(self, path: str, params: dict[str, Any] | None = None, *, max_bytes: int = http.MAX_DOWNLOAD_BYTES,
            authenticated: bool = True) -> http.Response:
        """The provider's answer to GET `path`, after waits and retries; SourceError when it cannot be had."""
        url = self.url(path, params)
        # the provider's credentials go to the provider's own host only, whatever URL a payload names
        authenticated = authenticated and urlparse(url).netloc == urlparse(self.base_url).netloc
        reauthenticated = False
        failures = 0
        while True:
            self.requests += 1
            try:
                response = http.get(url, headers=self.headers() if authenticated else {}, max_bytes=max_bytes)
            except DestinationRefused as exc:
                raise SourceError(f"refused destination: {exc}", code="destination_refused") from exc
            except (httpx.TransportError, OSError) as exc:
                failures += 1
                if failures >= self.attempts:
                    raise SourceError(f"{http.transport_failure(url, exc)}: {url}", code="unreachable") from exc
                self._wait(self.backoff * 2 ** (failures - 1))
                continue
            status = response.status_code
            if status == 429:
                self._wait(_seconds(_header(response.headers, "Retry-After", "X-RateLimit-Retry-After"), 60.0))
                continue
            if status == 401 and self.reauthenticate is not None and not reauthenticated:
                reauthenticated = True
                self.reauthenticate()
                continue
            if status >= 500:
                failures += 1
                if failures >= self.attempts:
                    raise SourceError(f"{status} from {url} after {failures} attempts", status=status,
                                      code="provider_error")
                self._wait(_seconds(_header(response.headers, "Retry-After"), self.backoff * 2 ** (failures - 1)))
                continue
            if status >= 400:
                raise SourceError(f"{status} from {url}: {response.body[:300].decode('utf-8', 'replace')}",
                                  status=status, code="unauthorized" if status in (401, 403) else "refused")
            if _header(response.headers, "X-RateLimit-Remaining", "X-RateLimit-Remaining-Minute") == "0":
                self._wait(_seconds(_header(response.headers, "Retry-After", "X-RateLimit-Retry-After",
                                            "X-RateLimit-Reset"), 1.0))
            return response

    def fetch_file(self, url: str, *, max_bytes: int) -> bytes:
        """An attachment's bytes: redirects followed (Zendesk's `content_url`, signed storage URLs), the
        provider's credentials sent only to the provider's own host. http.TooLarge past `max_bytes`."""
        for _hop in range(5):
            response = self.get(url, max_bytes=max_bytes)
            if response.status_code in (301, 302, 303, 307, 308) and _header(response.headers, "Location"):
                url = urljoin(url, _header(response.headers, "Location"))
                continue
            return response.body
        raise SourceError(f"too many redirects from {url}", code="redirects")

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> tuple[Any, dict[str, str]]:
        response = self.get(path, params)
        try:
            return json.loads(response.body), response.headers
        except ValueError as exc:
            raise SourceError(f"not JSON from {self.url(path, params)}", status=response.status_code,
                              code="bad_payload") from exc
