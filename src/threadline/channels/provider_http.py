"""Calling a provider's API from an adapter: one mapping from HTTP outcomes to the channel errors.

Every messaging adapter sends through `core.http`; this turns transport errors and status codes into
`TransientSendError` (timeouts, 5xx: retried), `RateLimited` (429, honouring Retry-After) and
`PermanentSendError` (other 4xx, with the provider's own error text so an agent can act on it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from threadline.channels.base import PermanentSendError, RateLimited, TransientSendError

__all__ = ["PermanentSendError", "RateLimited", "TransientSendError", "call", "download", "json_of"]
from threadline.core import http


def _retry_after(response: http.Response) -> float | None:
    value = {k.lower(): v for k, v in response.headers.items()}.get("retry-after", "")
    if not value:  # Telegram puts it in the body: {"parameters": {"retry_after": 5}}
        value = str((json_of(response).get("parameters") or {}).get("retry_after", ""))
    try:
        return float(value)
    except ValueError:
        return None


def provider_error(response: http.Response) -> str:
    """The provider's error text: Meta `error.message`, Twilio `message`, Telegram `description`..."""
    try:
        document = json.loads(response.body)
    except ValueError:
        return response.body[:300].decode("utf-8", "replace")
    if isinstance(document, dict):
        error = document.get("error")
        if isinstance(error, dict):
            code = error.get("code", "")
            return f"{code} {error.get('message', '')}".strip()
        for key in ("message", "description", "errmsg", "error_description"):
            if document.get(key):
                code = document.get("code", document.get("error_code", document.get("errcode", "")))
                return f"{code} {document[key]}".strip()
    return response.body[:300].decode("utf-8", "replace")


def call(provider: str, request: Callable[[], http.Response], *, transient: Callable[[http.Response], bool]
         | None = None) -> http.Response:
    """Run `request`; a 2xx answer is returned, anything else raised as the matching channel error."""
    try:
        response = request()
    except http.DestinationRefused as exc:
        raise PermanentSendError(str(exc)) from exc
    except httpx.TransportError as exc:
        raise TransientSendError(f"{provider}: {http.transport_failure(provider, exc)}") from exc
    except http.TooLarge as exc:
        raise TransientSendError(f"{provider}: TooLarge: {exc}") from exc
    if response.status_code == 429 or (transient is not None and transient(response)):
        raise RateLimited(f"{provider} answered {response.status_code}: {provider_error(response)}",
                          retry_after=_retry_after(response))
    if response.status_code >= 500:
        raise TransientSendError(f"{provider} answered {response.status_code}: {provider_error(response)}")
    if response.status_code >= 300:
        raise PermanentSendError(f"{provider} answered {response.status_code}: {provider_error(response)}")
    return response


def json_of(response: http.Response) -> dict[str, Any]:
    try:
        document = json.loads(response.body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def download(url: str, *, headers: dict[str, str] | None = None, max_redirects: int = 3) -> http.Response:
    """GET a provider's media, following a few redirects (Twilio sends media through a CDN redirect).

    Each hop passes the SSRF filter; credentials are dropped when a redirect leaves the provider's host.
    """
    from urllib.parse import urljoin, urlsplit

    current, sent = url, dict(headers or {})
    for _hop in range(max_redirects + 1):
        response = http.get(current, headers=sent)
        if response.status_code not in (301, 302, 303, 307, 308):
            return response
        location = {k.lower(): v for k, v in response.headers.items()}.get("location", "")
        if not location:
            return response
        target = urljoin(current, location)
        if urlsplit(target).netloc != urlsplit(current).netloc:
            sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
        current = target
    raise http.TooLarge(f"too many redirects from {url}")


def tolerant(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a provider payload of an unexpected shape (a string where an object was documented...) into a
    PayloadError — a 400 at the edge, a failed (replayable) event in the worker — never a crash."""
    import functools

    from threadline.channels.base import PayloadError

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
            raise PayloadError(f"unexpected payload shape: {type(exc).__name__}: {exc}") from exc

    return wrapper
