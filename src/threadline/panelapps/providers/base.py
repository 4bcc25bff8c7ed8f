"""One panel app kind: read a card about the customer, run one of the card's actions. Calls go through the
one outbound HTTP client; a provider's refusal or silence is an `AppUnavailable` with a sentence for the agent."""

from __future__ import annotations

import json
from typing import Any, Protocol

import httpx
from django.utils.translation import gettext as _

from threadline.core import http
from threadline.core.errors import ThreadlineError
from threadline.panelapps.cards import ActionResult, Card
from threadline.panelapps.context import PanelContext

MAX_ANSWER_BYTES = 1024 * 1024


class AppUnavailable(ThreadlineError):
    status = 502


class Provider(Protocol):
    def card(self, base_url: str, secrets: dict[str, str], context: PanelContext) -> Card: ...

    def act(self, base_url: str, secrets: dict[str, str], context: PanelContext, action_id: str) -> ActionResult: ...


def call(method: str, url: str, *, headers: dict[str, str], document: Any = None, body: bytes | None = None) -> Any:
    """JSON in, JSON out; any failure an AppUnavailable naming what went wrong."""
    try:
        if method == "GET":
            response = http.get(url, headers={"Accept": "application/json", **headers}, max_bytes=MAX_ANSWER_BYTES)
        else:
            content = body if body is not None else json.dumps(document).encode()
            response = http.post(url, content=content, headers={"Accept": "application/json",
                                                                 "Content-Type": "application/json", **headers})
    except (httpx.HTTPError, http.DestinationRefused, http.TooLarge) as exc:
        raise AppUnavailable(_("Could not reach the app: %(reason)s") % {
            "reason": http.transport_failure(url, exc)}, code="app_unreachable") from exc
    if response.status_code in (401, 403):
        raise AppUnavailable(_("The app refused Threadline's credentials."), code="app_unauthorized")
    if response.status_code >= 400:
        raise AppUnavailable(_("The app answered %(status)s.") % {"status": response.status_code}, code="app_error")
    if len(response.body) > MAX_ANSWER_BYTES:
        raise AppUnavailable(_("The app's answer is too large."), code="app_error")
    try:
        return json.loads(response.body or b"null")
    except ValueError as exc:
        raise AppUnavailable(_("The app answered something that is not JSON."), code="app_error") from exc
