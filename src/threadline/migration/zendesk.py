"""Zendesk Support through its documented APIs: the cursor-based Incremental Export of users and tickets
(`/api/v2/incremental/{users,tickets}/cursor.json`, `after_cursor`, `end_of_stream`), the time-based one of
organizations, each ticket's comments (`/api/v2/tickets/{id}/comments.json`, `public`, attachments' `content_url`),
ticket fields (custom field titles) and satisfaction ratings (cursor pagination). Authentication is an API token
(`{email}/token:{token}`, basic); 429 answers carry `Retry-After` (client.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from threadline.migration import records as r
from threadline.migration.client import SourceClient, SourceError

STATUS = {"new": "new", "open": "open", "pending": "pending", "hold": "on_hold", "solved": "solved",
          "closed": "closed"}
PRIORITY = {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"}
ROLE = {"admin": "admin", "agent": "agent"}
SCORE = {"good": 5, "bad": 1}  # "offered"/"unoffered": asked, never answered
PAGE_SIZE = 100


def _id(value: Any) -> str:
    return "" if value in (None, "") else str(value)


class ZendeskReader(r.SourceReader):
    name = "zendesk"
    stages = ("organizations", "users", "tickets", "ratings")

    def __init__(self, base_url: str, email: str, token: str, *, client: SourceClient | None = None,
                 page_size: int = PAGE_SIZE) -> None:
        secret = base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self.client = client or SourceClient(base_url)
        self.client.headers = lambda: {"Authorization": f"Basic {secret}", "Accept": "application/json"}
        self.page_size = page_size
        self._fields: dict[str, str] | None = None

    # ── stages ─────────────────────────────────────────────────────────────────────────────────────
    def pages(self, stage: str, cursor: str) -> Iterator[r.Page]:
        return getattr(self, f"_{stage}")(cursor)

    def _organizations(self, cursor: str) -> Iterator[r.Page]:
        start = cursor or "0"
        while True:
            data, _headers = self.client.get_json("/api/v2/incremental/organizations.json",
                                                  {"start_time": start, "per_page": self.page_size})
            items = [r.Organization(id=_id(o["id"]), name=(o.get("name") or "")[:200],
                                    domains=list(o.get("domain_names") or []))
                     for o in data.get("organizations") or []]
            end = str(data.get("end_time") or start)
            done = bool(data.get("end_of_stream")) or end == start
            yield r.Page(items, end, done)
            if done:
                return
            start = end

    def _cursor_export(self, resource: str, cursor: str, params: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, bool]]:
        query = {"cursor": cursor} if cursor else {"start_time": 0}
        while True:
            data, _headers = self.client.get_json(f"/api/v2/incremental/{resource}/cursor.json",
                                                  {**query, "per_page": self.page_size, **params})
            after = data.get("after_cursor") or cursor
            done = bool(data.get("end_of_stream")) or not data.get("after_cursor")
            yield data, after, done
            if done:
                return
            cursor, query = after, {"cursor": after}

    def _users(self, cursor: str) -> Iterator[r.Page]:
        for data, after, done in self._cursor_export("users", cursor, {}):
            items: list[Any] = []
            for user in data.get("users") or []:
                uid = _id(user.get("id"))
                if user.get("role") in ROLE:
                    items.append(r.Agent(id=uid, email=user.get("email") or "", name=user.get("name") or "",
                                         role=ROLE[user["role"]], active=bool(user.get("active", True))))
                    continue
                items.append(r.Contact(
                    id=uid, name=user.get("name") or "", emails=[user["email"]] if user.get("email") else [],
                    phones=[user["phone"]] if user.get("phone") else [], organization_id=_id(user.get("organization_id")),
                    language=(user.get("locale") or "").split("-")[0], time_zone=user.get("iana_time_zone") or "",
                    verified=bool(user.get("verified")), created_at=r.parse_time(user.get("created_at")),
                    attributes={k: v for k, v in (user.get("user_fields") or {}).items() if v not in (None, "")},
                ))
            yield r.Page(items, after, done)

    def _ticket_fields(self) -> dict[str, str]:
        if self._fields is None:
            data, _headers = self.client.get_json("/api/v2/ticket_fields.json")
            self._fields = {_id(f["id"]): f.get("title") or str(f["id"]) for f in data.get("ticket_fields") or []}
        return self._fields

    def _tickets(self, cursor: str) -> Iterator[r.Page]:
        for data, after, done in self._cursor_export("tickets", cursor, {"include": "metric_sets"}):
            solved = {_id(m.get("ticket_id")): m.get("solved_at") for m in data.get("metric_sets") or []}
            items, skipped = [], []
            for ticket in data.get("tickets") or []:
                tid = _id(ticket["id"])
                if ticket.get("status") == "deleted":
                    skipped.append(("ticket", tid, "deleted", _("The ticket was deleted in Zendesk.")))
                    continue
                try:
                    comments = list(self._comments(tid))
                except SourceError as exc:
                    if exc.status != 404:
                        raise
                    skipped.append(("ticket", tid, "not_found", _("Zendesk no longer has this ticket's comments.")))
                    continue
                items.append(self._ticket(ticket, comments, solved.get(tid)))
            yield r.Page(items, after, done, skipped)

    def _ticket(self, ticket: dict[str, Any], comments: list[r.Comment], solved_at: Any) -> r.Ticket:
        fields = self._ticket_fields() if ticket.get("custom_fields") else {}
        custom = {f"zendesk_{f['id']}": (fields.get(_id(f["id"]), str(f["id"])), f["value"])
                  for f in ticket.get("custom_fields") or [] if f.get("value") not in (None, "", [])}
        status = STATUS.get(ticket.get("status") or "", "open")
        return r.Ticket(
            id=_id(ticket["id"]), subject=ticket.get("subject") or ticket.get("raw_subject") or "", status=status,
            priority=PRIORITY.get(ticket.get("priority") or "", "normal"), requester_id=_id(ticket.get("requester_id")),
            created_at=r.parse_time(ticket["created_at"]), updated_at=r.parse_time(ticket["updated_at"]),
            solved_at=r.parse_time(solved_at), assignee_id=_id(ticket.get("assignee_id")),
            tags=list(ticket.get("tags") or []), custom_fields=custom, comments=comments,
        )

    def _comments(self, ticket_id: str) -> Iterator[r.Comment]:
        url = f"/api/v2/tickets/{ticket_id}/comments.json"
        params: dict[str, Any] | None = {"page[size]": 100}
        while url:
            data, _headers = self.client.get_json(url, params)
            for comment in data.get("comments") or []:
                yield r.Comment(
                    id=_id(comment["id"]), author_kind="user", author_id=_id(comment.get("author_id")),
                    text=comment.get("plain_body") or comment.get("body") or "", html=comment.get("html_body") or "",
                    public=bool(comment.get("public", True)), created_at=r.parse_time(comment["created_at"]),
                    attachments=[r.Attachment(id=_id(a["id"]), filename=a.get("file_name") or "attachment",
                                              content_type=a.get("content_type") or "", size=int(a.get("size") or 0),
                                              url=a.get("content_url") or "")
                                 for a in comment.get("attachments") or []],
                )
            links, meta = data.get("links") or {}, data.get("meta") or {}
            url = links.get("next") if meta.get("has_more") else data.get("next_page") or ""
            params = None

    def _ratings(self, cursor: str) -> Iterator[r.Page]:
        if cursor.startswith("http"):
            url, params = cursor, None
        else:
            url, params = "/api/v2/satisfaction_ratings.json", {"start_time": cursor or 0, "page[size]": self.page_size}
        latest = int(cursor) if cursor.isdigit() else 0
        while True:
            data, _headers = self.client.get_json(url, params)
            items, skipped = [], []
            for rating in data.get("satisfaction_ratings") or []:
                rid, score = _id(rating["id"]), SCORE.get(rating.get("score") or "")
                created = r.parse_time(rating.get("created_at"))
                if created is not None:
                    latest = max(latest, int(created.timestamp()))
                if score is None:
                    skipped.append(("rating", rid, "not_answered",
                                    _("The survey is %(state)s: it was never answered.") % {"state": rating.get("score") or "-"}))
                    continue
                items.append(r.Rating(id=rid, ticket_id=_id(rating.get("ticket_id")), score=score,
                                      comment=rating.get("comment") or "", created_at=created,
                                      contact_id=_id(rating.get("requester_id"))))
            more = (data.get("meta") or {}).get("has_more") and (data.get("links") or {}).get("next")
            if more:
                yield r.Page(items, more, False, skipped)
                url, params = more, None
                continue
            yield r.Page(items, str(latest + 1 if latest else 0), True, skipped)
            return

    def download(self, attachment: r.Attachment) -> bytes:
        from django.conf import settings

        return self.client.fetch_file(attachment.url, max_bytes=settings.THREADLINE["ATTACHMENT_MAX_BYTES"])
