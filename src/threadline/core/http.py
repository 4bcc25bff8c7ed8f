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
