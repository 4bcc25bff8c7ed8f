"""Freshdesk through its documented REST API v2: agents, companies, contacts, tickets listed by
`updated_since` in `updated_at` order (pages followed through the `Link: <…>; rel="next"` header), each ticket
with its description, attachments and `stats` (`include=stats`), its conversations (replies, notes with
`private`, `incoming` for the customer's) and satisfaction ratings. Authentication is the API key as the basic
user name (`key:X`); `X-RateLimit-Remaining` and 429's `Retry-After` are honoured (client.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from threadline.migration import records as r
from threadline.migration.client import SourceClient, SourceError, next_link

STATUS = {2: "open", 3: "pending", 4: "solved", 5: "closed"}
PRIORITY = {1: "low", 2: "normal", 3: "high", 4: "urgent"}
# Freshdesk's satisfaction scale (-103 extremely unhappy … 103 extremely happy) on a 1–5 CSAT scale
SCORE = {103: 5, 102: 5, 101: 4, 100: 3, -101: 2, -102: 1, -103: 1}
PAGE_SIZE = 100
EPOCH = "1970-01-01T00:00:00Z"


def _id(value: Any) -> str:
    return "" if value in (None, "") else str(value)


class FreshdeskReader(r.SourceReader):
    name = "freshdesk"
    stages = ("agents", "organizations", "contacts", "tickets", "ratings")

    max_pages = 300  # Freshdesk lists at most this many pages; past them the list starts again from a later time

    def __init__(self, base_url: str, api_key: str, *, client: SourceClient | None = None,
                 page_size: int = PAGE_SIZE) -> None:
        secret = base64.b64encode(f"{api_key}:X".encode()).decode()
        self.client = client or SourceClient(base_url)
        self.client.headers = lambda: {"Authorization": f"Basic {secret}", "Accept": "application/json"}
        self.page_size = page_size

    def pages(self, stage: str, cursor: str) -> Iterator[r.Page]:
        return getattr(self, f"_{stage}")(cursor)

    def _listed(self, path: str, cursor: str, params: dict[str, Any]) -> Iterator[tuple[list[Any], str]]:
        """(items, next URL) of every page from `cursor` (a next-page URL) or the first."""
        url, query = (cursor, None) if cursor.startswith("http") else (path, {**params, "per_page": self.page_size})
        while url:
            data, headers = self.client.get_json(url, query)
            url, query = next_link(headers), None
            yield list(data or []), url

    def _agents(self, cursor: str) -> Iterator[r.Page]:
        for items, following in self._listed("/api/v2/agents", cursor, {}):
            agents = [r.Agent(id=_id(a["id"]), email=(a.get("contact") or {}).get("email") or "",
                              name=(a.get("contact") or {}).get("name") or "",
                              active=bool((a.get("contact") or {}).get("active", True))) for a in items]
            yield r.Page(agents, following, not following)

    def _organizations(self, cursor: str) -> Iterator[r.Page]:
        for items, following in self._listed("/api/v2/companies", cursor, {}):
            yield r.Page([r.Organization(id=_id(c["id"]), name=(c.get("name") or "")[:200],
                                         domains=list(c.get("domains") or [])) for c in items], following, not following)

    def _contacts(self, cursor: str) -> Iterator[r.Page]:
        for items, following in self._listed("/api/v2/contacts", cursor, {}):
            contacts = []
            for c in items:
                handles = {k: str(c[f"{k}_id"]) for k in ("twitter", "facebook") if c.get(f"{k}_id")}
                contacts.append(r.Contact(
                    id=_id(c["id"]), name=c.get("name") or "",
                    emails=[e for e in [c.get("email"), *(c.get("other_emails") or [])] if e],
                    phones=[p for p in (c.get("phone"), c.get("mobile")) if p], handles=handles,
                    organization_id=_id(c.get("company_id")), language=c.get("language") or "",
                    time_zone="", created_at=r.parse_time(c.get("created_at")),
                    attributes={k: v for k, v in (c.get("custom_fields") or {}).items() if v not in (None, "")},
                ))
            yield r.Page(contacts, following, not following)

    def _tickets(self, cursor: str) -> Iterator[r.Page]:
        since = cursor[len("since:"):] if cursor.startswith("since:") else EPOCH
        params = {"updated_since": since, "order_by": "updated_at", "order_type": "asc"}
        page_cursor = cursor if cursor.startswith("http") else ""
        while True:
            last, pages_read = since, 0
            for items, following in self._listed("/api/v2/tickets", page_cursor, params):
                pages_read += 1
                tickets, skipped = [], []
                for listed in items:
                    tid = _id(listed["id"])
                    last = listed.get("updated_at") or last
                    try:
                        tickets.append(self._ticket(tid))
                    except SourceError as exc:
                        if exc.status != 404:
                            raise
                        skipped.append(("ticket", tid, "not_found", _("Freshdesk no longer has this ticket.")))
                if following:
                    yield r.Page(tickets, following, False, skipped)
                    continue
                # Freshdesk stops listing after page 300: go on from the last ticket's updated_at
                more = pages_read >= self.max_pages and len(items) >= self.page_size and last != since
                yield r.Page(tickets, f"since:{last}", not more, skipped)
                if not more:
                    return
            since, page_cursor = last, ""
            params = {**params, "updated_since": since}

    def _ticket(self, tid: str) -> r.Ticket:
        ticket, _headers = self.client.get_json(f"/api/v2/tickets/{tid}", {"include": "stats"})
        stats = ticket.get("stats") or {}
        comments = [r.Comment(
            id=f"d{tid}", author_kind="contact", author_id=_id(ticket.get("requester_id")),
            text=ticket.get("description_text") or "", html=ticket.get("description") or "", public=True,
            created_at=r.parse_time(ticket["created_at"]), attachments=[self._attachment(a) for a in ticket.get("attachments") or []],
        )]
        for items, _following in self._listed(f"/api/v2/tickets/{tid}/conversations", "", {}):
            for c in items:
                comments.append(r.Comment(
                    id=_id(c["id"]), author_kind="contact" if c.get("incoming") else "user",
                    author_id=_id(c.get("user_id")), text=c.get("body_text") or "", html=c.get("body") or "",
                    public=not c.get("private"), created_at=r.parse_time(c["created_at"]),
                    attachments=[self._attachment(a) for a in c.get("attachments") or []],
                ))
        custom = {f"freshdesk_{key}": (key.removeprefix("cf_").replace("_", " "), value)
                  for key, value in (ticket.get("custom_fields") or {}).items() if value not in (None, "", [])}
        return r.Ticket(
            id=tid, subject=ticket.get("subject") or "", status=STATUS.get(ticket.get("status"), "open"),
            priority=PRIORITY.get(ticket.get("priority"), "normal"), requester_id=_id(ticket.get("requester_id")),
            created_at=r.parse_time(ticket["created_at"]), updated_at=r.parse_time(ticket["updated_at"]),
            solved_at=r.parse_time(stats.get("resolved_at") or stats.get("closed_at")),
            assignee_id=_id(ticket.get("responder_id")), tags=list(ticket.get("tags") or []), custom_fields=custom,
            comments=comments,
        )

    @staticmethod
    def _attachment(a: dict[str, Any]) -> r.Attachment:
        return r.Attachment(id=_id(a["id"]), filename=a.get("name") or "attachment",
                            content_type=a.get("content_type") or "", size=int(a.get("size") or 0),
                            url=a.get("attachment_url") or "")

    def _ratings(self, cursor: str) -> Iterator[r.Page]:
        since = cursor[len("since:"):] if cursor.startswith("since:") else EPOCH
        latest = since
        for items, following in self._listed("/api/v2/surveys/satisfaction_ratings",
                                             cursor if cursor.startswith("http") else "", {"created_since": since}):
            ratings, skipped = [], []
            for rating in items:
                rid = _id(rating["id"])
                latest = max(latest, rating.get("created_at") or latest)
                value = (rating.get("ratings") or {}).get("default_question")
                if value not in SCORE:
                    skipped.append(("rating", rid, "no_score", _("This rating has no overall score (%(value)s).") % {"value": value}))
                    continue
                ratings.append(r.Rating(id=rid, ticket_id=_id(rating.get("ticket_id")), score=SCORE[value],
                                        comment=rating.get("feedback") or "",
                                        created_at=r.parse_time(rating["created_at"]),
                                        contact_id=_id(rating.get("user_id"))))
            yield r.Page(ratings, following or f"since:{latest}", not following, skipped)

    def download(self, attachment: r.Attachment) -> bytes:
        from django.conf import settings

        return self.client.fetch_file(attachment.url, max_bytes=settings.THREADLINE["ATTACHMENT_MAX_BYTES"])
