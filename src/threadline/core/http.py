"""The one outbound HTTP client: provider APIs and customers' webhook URLs all go through `post`.

It refuses private, loopback and link-local destinations (SSRF) unless THREADLINE_OUTBOUND_ALLOW_PRIVATE
is set (tests and self-hosted gateways on the same machine), never follows redirects and always has timeouts.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlparse

import httpx
from django.conf import settings

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "Threadline/0.1 (+https://github.com/threadline)"


class DestinationRefused(Exception):
    """The URL is not a public http(s) destination."""


@dataclass(frozen=True)
class Response:
    status_code: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        import json

        return json.loads(self.body)


def check_destination(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise DestinationRefused(f"not an http(s) URL: {url!r}")
    if settings.THREADLINE["OUTBOUND_ALLOW_PRIVATE"]:
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DestinationRefused(f"cannot resolve {parsed.hostname}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise DestinationRefused(f"{parsed.hostname} resolves to a non-public address")


def post(url: str, *, content: bytes, headers: dict[str, str], timeout: httpx.Timeout = TIMEOUT) -> Response:
    """POST `content`; raises DestinationRefused or httpx.TransportError, returns any HTTP status."""
    check_destination(url)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        response = client.post(url, content=content, headers={"User-Agent": USER_AGENT, **headers})
        return Response(response.status_code, dict(response.headers), response.content)


MAX_DOWNLOAD_BYTES = 26 * 1024 * 1024


class TooLarge(Exception):
    """A download exceeded its byte limit."""


def get(
    url: str, *, headers: dict[str, str] | None = None, timeout: httpx.Timeout = TIMEOUT,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Response:
    """GET `url` (a provider's media, a template list); streams and raises TooLarge past `max_bytes`."""
    check_destination(url)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        with client.stream("GET", url, headers={"User-Agent": USER_AGENT, **(headers or {})}) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"{url} is larger than {max_bytes} bytes")
                chunks.append(chunk)
            return Response(response.status_code, dict(response.headers), b"".join(chunks))


def post_form(
    url: str, *, data: dict[str, str | list[str]], headers: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None, timeout: httpx.Timeout = TIMEOUT,
) -> Response:
    """POST form fields (`application/x-www-form-urlencoded`, or `multipart/form-data` when `files` is given)."""
    check_destination(url)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        response = client.post(url, data=data, files=files, headers={"User-Agent": USER_AGENT, **(headers or {})})
        return Response(response.status_code, dict(response.headers), response.content)
