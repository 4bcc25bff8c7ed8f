"""Calling a translation provider through the one outbound client (`core.http`), every outcome mapped.

No answer, 5xx, or a body that is not JSON → ProviderFailed; 429 → ProviderRateLimited with the provider's
Retry-After; 401/403 → ProviderAuthFailed; DeepL's 456 → ProviderQuotaExhausted. The provider's own error text
goes to the server log and, short, into the message an admin sees.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
from django.utils.translation import gettext as _

from threadline.core import http
from threadline.core.destinations import DestinationRefused
from threadline.translation.base import (
    ProviderAuthFailed,
    ProviderFailed,
    ProviderQuotaExhausted,
    ProviderRateLimited,
)

logger = logging.getLogger(__name__)
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
DEFAULT_RETRY_AFTER = 30


def provider_error(body: bytes) -> str:
    """The provider's error text: DeepL `{"message"}`, Google `{"error": {"message"}}`, LibreTranslate
    `{"error"}`."""
    try:
        document = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(document, dict):
        error = document.get("error")
        if isinstance(error, dict):
            return str(error.get("message", ""))[:200]
        if isinstance(error, str):
            return error[:200]
        return str(document.get("message", ""))[:200]
    return ""


def retry_after(headers: dict[str, str]) -> int:
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after", "")
    try:
        return max(1, min(3600, int(float(value))))
    except ValueError:
        return DEFAULT_RETRY_AFTER


def post_json(provider: str, url: str, body: dict[str, Any], headers: dict[str, str],
              classify: Callable[[int, bytes], ProviderFailed | None] | None = None) -> Any:
    """POST `body` as JSON and return the decoded 2xx answer, or raise the mapped error (`classify` may name a
    more precise one first, from the provider's own error reasons)."""
    try:
        response = http.post(url, content=json.dumps(body).encode(), timeout=TIMEOUT,
                             headers={"Content-Type": "application/json", "Accept": "application/json", **headers})
    except DestinationRefused as exc:
        raise ProviderFailed(_("%(provider)s: the address is refused (%(reason)s).")
                             % {"provider": provider, "reason": exc}) from exc
    except httpx.HTTPError as exc:
        raise ProviderFailed(_("%(provider)s did not answer: %(reason)s.")
                             % {"provider": provider, "reason": http.transport_failure(url, exc)}) from exc
    status, detail = response.status_code, ""
    if status >= 300:
        detail = provider_error(response.body)
        logger.warning("%s answered %s: %s", provider, status, detail)
    special = classify(status, response.body) if classify is not None and status >= 300 else None
    if special is not None:
        raise special
    if status == 429:
        raise ProviderRateLimited(_("%(provider)s asks to slow down; try again in %(n)d seconds.")
                                  % {"provider": provider, "n": retry_after(response.headers)},
                                  retry_after=retry_after(response.headers))
    if status == 456:
        raise ProviderQuotaExhausted(_("%(provider)s: the account's character quota is used up.")
                                     % {"provider": provider})
    if status in (401, 403):
        raise ProviderAuthFailed(_("%(provider)s refused the API key (%(status)d): %(detail)s")
                                 % {"provider": provider, "status": status, "detail": detail})
    if status >= 300:
        raise ProviderFailed(_("%(provider)s answered %(status)d: %(detail)s")
                             % {"provider": provider, "status": status, "detail": detail})
    try:
        return json.loads(response.body)
    except ValueError as exc:
        raise ProviderFailed(_("%(provider)s answered with something that is not JSON.")
                             % {"provider": provider}) from exc


def shape_error(provider: str) -> ProviderFailed:
    return ProviderFailed(_("%(provider)s answered in an unexpected shape.") % {"provider": provider})
