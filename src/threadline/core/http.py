"""The one outbound HTTP client: provider APIs and customers' webhook URLs all go through `post`.

It refuses private, loopback and link-local destinations (SSRF, see `destinations.py`) unless
THREADLINE_OUTBOUND_ALLOW_PRIVATE is set (tests and self-hosted gateways on the same machine): the host is
resolved once and the request goes to the checked address (Host header and TLS SNI/verification keep the
name). It never follows redirects and always has timeouts.

Clients are kept per destination (scheme, host name, port) and reused across requests and threads: a
provider's connections stay open between sends (keep-alive), and the TLS context with its certificate
store is built once per process, not once per request (that alone cost about 15 ms of CPU per send).
A pool never carries a request for one host name over a connection opened for another, even when both
resolve to the same address (the connection's TLS name and the Host header must agree).
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import httpx

from threadline.core import destinations
from threadline.core.destinations import DestinationRefused

logger = logging.getLogger(__name__)
COULD_NOT_CONNECT = "could not connect, or no answer (details are in the server log)"

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "Threadline/0.1 (+https://github.com/threadline)"
MAX_CLIENTS = 64  # destinations whose connections are kept; the least recently used is dropped past that
LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=8, keepalive_expiry=5.0)

_clients: OrderedDict[tuple[str, str, int], httpx.Client] = OrderedDict()
_clients_guard = threading.Lock()
_tls: ssl.SSLContext | None = None


def _client_for(url: str) -> httpx.Client:
    """The pooled client of `url`'s destination (scheme, host name, port), made on first use."""
    global _tls  # noqa: PLW0603 - one TLS context per process, built on first use
    parsed = urlparse(url)
    key = (parsed.scheme, (parsed.hostname or "").lower(), parsed.port or (443 if parsed.scheme == "https" else 80))
    with _clients_guard:
        client = _clients.get(key)
        if client is not None:
            _clients.move_to_end(key)
            return client
        if _tls is None:
            _tls = httpx.create_ssl_context(trust_env=False)
        client = httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False, verify=_tls, limits=LIMITS)
        _clients[key] = client
        while len(_clients) > MAX_CLIENTS:
            _clients.popitem(last=False)  # not closed: a thread may be using it; its sockets close when collected
        return client


def close_clients() -> None:
    """Close every kept connection (tests, shutdown)."""
    with _clients_guard:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


@dataclass(frozen=True)
class Response:
    status_code: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        import json

        return json.loads(self.body)


def check_url(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL; DestinationRefused when it is not one."""
    parsed = urlparse(url)
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError as exc:
        raise DestinationRefused(f"not an http(s) URL: {url!r}") from exc
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise DestinationRefused(f"not an http(s) URL: {url!r}")
    return parsed.hostname, port


def transport_failure(url: str, exc: Exception) -> str:
    """What a delivery log shows for a connection that failed: one message whatever failed (refused port,
    timeout, reset, TLS), so it cannot be used to probe ports; the details go to the server log."""
    logger.warning("outbound request to %s failed: %s: %s", url, type(exc).__name__, exc)
    return COULD_NOT_CONNECT


def refuse_private_url(url: str, *, field: str) -> None:
    """When a URL is saved (webhook subscriptions, the API channel): 400 when it points at a private address
    now (checked again on every request)."""
    try:
        host, port = check_url(url)
    except DestinationRefused:
        return  # the caller's own validation says what is wrong with the URL
    destinations.refuse_private(host, port, field=field)


def _pinned(url: str, headers: dict[str, str]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The request aimed at the address the policy checked: URL with that address, Host and SNI the name."""
    host, port = check_url(url)
    if destinations.private_allowed():
        return url, headers, {}
    addresses = destinations.resolve(host, port)
    address = next((a for a in addresses if ":" not in a), addresses[0])  # IPv4 first: v6 may not route
    parsed = urlparse(url)
    userinfo, _at, hostport = parsed.netloc.rpartition("@")
    literal = f"[{address}]" if ":" in address else address
    pinned = parsed._replace(netloc=f"{userinfo}{_at}{literal}:{port}").geturl()
    extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
    return pinned, {**headers, "Host": hostport}, extensions


def post(url: str, *, content: bytes, headers: dict[str, str], timeout: httpx.Timeout = TIMEOUT) -> Response:
    """POST `content`; raises DestinationRefused or httpx.TransportError, returns any HTTP status."""
    client = _client_for(url)
    url, headers, extensions = _pinned(url, {"User-Agent": USER_AGENT, **headers})
    response = client.post(url, content=content, headers=headers, extensions=extensions, timeout=timeout)
    return Response(response.status_code, dict(response.headers), response.content)


def delete(url: str, *, headers: dict[str, str], timeout: httpx.Timeout = TIMEOUT) -> Response:
    """DELETE `url` (a provider's object: a public comment); same policy and errors as `post`."""
    client = _client_for(url)
    url, headers, extensions = _pinned(url, {"User-Agent": USER_AGENT, **headers})
    response = client.delete(url, headers=headers, extensions=extensions, timeout=timeout)
    return Response(response.status_code, dict(response.headers), response.content)


MAX_DOWNLOAD_BYTES = 26 * 1024 * 1024


class TooLarge(Exception):
    """A download exceeded its byte limit."""


def get(
    url: str, *, headers: dict[str, str] | None = None, timeout: httpx.Timeout = TIMEOUT,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Response:
    """GET `url` (a provider's media, a template list); streams and raises TooLarge past `max_bytes`."""
    client = _client_for(url)
    url, headers, extensions = _pinned(url, {"User-Agent": USER_AGENT, **(headers or {})})
    with client.stream("GET", url, headers=headers, extensions=extensions, timeout=timeout) as response:
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
    client = _client_for(url)
    url, headers, extensions = _pinned(url, {"User-Agent": USER_AGENT, **(headers or {})})
    response = client.post(url, data=data, files=files, headers=headers, extensions=extensions, timeout=timeout)
    return Response(response.status_code, dict(response.headers), response.content)
