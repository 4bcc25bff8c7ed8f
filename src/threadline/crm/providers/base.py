"""What a CRM is asked: find a person by email or phone, create one, log a conversation on their record, read
what changed. Requests go through the one outbound HTTP client with the connection's OAuth access token; an
expired token is refreshed once (`oauth.py`) and the request tried again."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from django.utils.translation import gettext as _

from threadline.core import http
from threadline.core.errors import RateLimited, ThreadlineError


class CrmUnavailable(ThreadlineError):
    status = 502


class Expired(Exception):
    """The access token was refused: refresh it and try once more."""


@dataclass(frozen=True)
class Record:
    id: str
    name: str
    email: str
    phone: str
    company: str
    owner: str
    url: str
    updated_at: dt.datetime | None


def request(method: str, url: str, token: str, *, document: Any = None, form: dict[str, str] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        if method == "GET":
            response = http.get(url, headers=headers, max_bytes=4 * 1024 * 1024)
        elif form is not None:
            response = http.post(url, content=urlencode(form).encode(),
                                 headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
        else:
            response = http.post(url, content=json.dumps(document).encode(),
                                 headers={**headers, "Content-Type": "application/json"})
    except (httpx.HTTPError, http.DestinationRefused, http.TooLarge) as exc:
        raise CrmUnavailable(_("The CRM could not be reached: %(reason)s") % {
            "reason": http.transport_failure(url, exc)}, code="crm_unreachable") from exc
    if response.status_code == 401:
        raise Expired
    if response.status_code == 429:
        retry = response.headers.get("retry-after", "10")
        raise RateLimited(_("The CRM asks to wait before the next request."),
                          retry_after=int(retry) if retry.isdigit() else 10)
    if response.status_code >= 400:
        raise CrmUnavailable(_("The CRM answered %(status)s: %(body)s") % {
            "status": response.status_code, "body": response.body[:300].decode(errors="replace")}, code="crm_error")
    try:
        return json.loads(response.body) if response.body else {}
    except ValueError as exc:
        raise CrmUnavailable(_("The CRM answered something that is not JSON."), code="crm_error") from exc


def when(value: Any) -> dt.datetime | None:
    """An ISO 8601 time (HubSpot's `2026-12-04T10:00:00.000Z`, Salesforce's `2026-12-04T10:00:00.000+0000`)."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


Call = Callable[..., Any]  # request() bound to the connection's token, refreshed on Expired
