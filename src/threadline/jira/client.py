"""Jira Cloud's REST API v3, as much of it as linking needs: read an issue, create one, add a remote link.

Requests go through the one outbound HTTP client (`core.http`: private addresses refused, the address pinned),
authenticated with the account's email and API token (HTTP Basic, as Atlassian documents for scripts)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext as _

from threadline.core import crypto, http
from threadline.core.errors import NotFound, RateLimited, ThreadlineError
from threadline.jira.models import JiraConnection


class JiraUnavailable(ThreadlineError):
    """Jira refused the request or could not be reached; the message says which."""

    status = 502


@dataclass(frozen=True)
class Issue:
    id: str
    key: str
    summary: str
    status: str
    status_category: str  # new / indeterminate / done
    url: str


def issue_from(document: dict[str, Any], base_url: str) -> Issue:
    """An issue from Jira's JSON (a REST answer, or the `issue` of a webhook)."""
    fields = document.get("fields") or {}
    status = fields.get("status") or {}
    key = str(document.get("key", ""))
    return Issue(id=str(document.get("id", "")), key=key, summary=str(fields.get("summary") or "")[:255],
                 status=str(status.get("name") or "")[:128],
                 status_category=str((status.get("statusCategory") or {}).get("key") or "")[:32],
                 url=f"{base_url.rstrip('/')}/browse/{quote(key)}")


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document (API v3 wants rich text fields in ADF): a paragraph per line."""
    paragraphs = [{"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
                  for line in text.splitlines() or [""]]
    return {"type": "doc", "version": 1, "content": paragraphs}


class JiraClient:
    def __init__(self, connection: JiraConnection) -> None:
        self.base_url = connection.base_url.rstrip("/")
        token = crypto.decrypt_json(connection.secrets_encrypted)["api_token"]
        basic = base64.b64encode(f"{connection.email}:{token}".encode()).decode()
        self.headers = {"Authorization": f"Basic {basic}", "Accept": "application/json"}

    def get_issue(self, key: str) -> Issue:
        answer = self._call("GET", f"/rest/api/3/issue/{quote(key)}?fields=summary,status")
        return issue_from(answer, self.base_url)

    def create_issue(self, *, project_key: str, issue_type: str, summary: str, description: str) -> Issue:
        created = self._call("POST", "/rest/api/3/issue", {"fields": {
            "project": {"key": project_key}, "issuetype": {"name": issue_type}, "summary": summary,
            "description": adf(description)}})
        return self.get_issue(str(created["key"]))

    def add_remote_link(self, key: str, *, global_id: str, url: str, title: str) -> None:
        """A link back from the issue to the conversation; `global_id` makes a second call update, not add."""
        self._call("POST", f"/rest/api/3/issue/{quote(key)}/remotelink",
                   {"globalId": global_id, "object": {"url": url, "title": title[:255]}})

    def _call(self, method: str, path: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self.base_url + path
        try:
            if method == "GET":
                response = http.get(url, headers=self.headers, max_bytes=2 * 1024 * 1024)
            else:
                response = http.post(url, content=json.dumps(document).encode(),
                                     headers={**self.headers, "Content-Type": "application/json"})
        except (httpx.HTTPError, http.DestinationRefused, http.TooLarge) as exc:
            raise JiraUnavailable(_("Jira could not be reached: %(reason)s") % {
                "reason": http.transport_failure(url, exc)}, code="jira_unreachable") from exc
        return self._answer(response)

    @staticmethod
    def _answer(response: http.Response) -> dict[str, Any]:
        status = response.status_code
        if status == 404:
            raise NotFound(_("Jira has no such issue (or this account may not see it)."), code="jira_issue_not_found")
        if status in (401, 403):
            raise JiraUnavailable(_("Jira refused the account's email and API token."), code="jira_unauthorized")
        if status == 429:
            retry = response.headers.get("retry-after", "60")
            raise RateLimited(_("Jira asks to wait before the next request."),
                              retry_after=int(retry) if retry.isdigit() else 60)
        if status >= 400:
            messages = _jira_errors(response.body)
            raise JiraUnavailable(_("Jira answered %(status)s: %(errors)s") % {"status": status, "errors": messages},
                                  code="jira_error")
        try:
            document = json.loads(response.body or b"{}")
        except ValueError as exc:
            raise JiraUnavailable(_("Jira answered something that is not JSON."), code="jira_error") from exc
        return document if isinstance(document, dict) else {}


def _jira_errors(body: bytes) -> str:
    """Jira's `{errorMessages: [...], errors: {field: message}}`, in one line."""
    try:
        document = json.loads(body)
    except ValueError:
        return body[:200].decode(errors="replace")
    if not isinstance(document, dict):
        return ""
    parts = [str(m) for m in document.get("errorMessages") or []]
    parts += [f"{field}: {message}" for field, message in (document.get("errors") or {}).items()]
    return "; ".join(parts)[:500]
