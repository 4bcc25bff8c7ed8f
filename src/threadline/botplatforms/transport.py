"""Calling a bot platform through the one hardened outbound client (`core.http`), with every outcome mapped.

Transport failures and timeouts, 5xx and 429 are `TransientBotError`; 401/403 are `BotAuthError`; other
non-2xx answers are `PermanentBotError` carrying the platform's own error text (Google's `error.message`,
AWS's `message` and `x-amzn-ErrorType`, Direct Line's `error.code`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx

from threadline.botplatforms.base import BotAuthError, PermanentBotError, TransientBotError
from threadline.core import http

logger = logging.getLogger(__name__)


def timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(5.0, seconds))


def platform_error(response: http.Response) -> str:
    """The platform's error text, short enough for a log line or an admin's screen."""
    headers = {k.lower(): v for k, v in response.headers.items()}
    try:
        document = json.loads(response.body)
    except ValueError:
        document = None
    text = ""
    if isinstance(document, dict):
        error = document.get("error")
        if isinstance(error, dict):  # Google {"error": {code, message, status}}, Direct Line {"error": {code, message}}
            text = " ".join(str(error.get(k, "")) for k in ("status", "code", "message") if error.get(k))
        elif isinstance(error, str):  # OAuth token endpoints {"error", "error_description"}
            text = f"{error} {document.get('error_description', '')}".strip()
        elif document.get("message") or document.get("Message"):  # AWS
            text = str(document.get("message") or document.get("Message"))
    if not text:
        text = response.body[:300].decode("utf-8", "replace")
    kind = headers.get("x-amzn-errortype", "").split(":", 1)[0]
    return f"{kind}: {text}" if kind else text


def call(platform: str, request: Callable[[], http.Response]) -> http.Response:
    """Run `request`; a 2xx answer is returned, anything else raised as the matching BotPlatformError."""
    try:
        response = request()
    except http.DestinationRefused as exc:
        raise PermanentBotError(f"{platform}: {exc}") from exc
    except httpx.TimeoutException as exc:
        logger.warning("%s did not answer in time: %s", platform, exc)
        raise TransientBotError(f"{platform}: no answer in time") from exc
    except (httpx.TransportError, http.TooLarge) as exc:
        raise TransientBotError(f"{platform}: {http.transport_failure(platform, exc)}") from exc
    status = response.status_code
    if status == 429 or status >= 500:
        raise TransientBotError(f"{platform} answered {status}: {platform_error(response)}", status=status)
    if status in (401, 403):
        raise BotAuthError(f"{platform} refused the credentials ({status}): {platform_error(response)}",
                           status=status)
    if status >= 300:
        raise PermanentBotError(f"{platform} answered {status}: {platform_error(response)}", status=status)
    return response


def json_body(platform: str, response: http.Response) -> dict[str, Any]:
    """The answer's JSON object; PermanentBotError when the platform sent something else."""
    try:
        document = json.loads(response.body) if response.body else {}
    except ValueError as exc:
        raise PermanentBotError(f"{platform} answered with something that is not JSON") from exc
    if not isinstance(document, dict):
        raise PermanentBotError(f"{platform} answered with JSON that is not an object")
    return document


def post_json(platform: str, url: str, payload: dict[str, Any], *, headers: dict[str, str],
              seconds: float) -> dict[str, Any]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    response = call(platform, lambda: http.post(
        url, content=body, headers={"Content-Type": "application/json", **headers}, timeout=timeout(seconds)))
    return json_body(platform, response)
