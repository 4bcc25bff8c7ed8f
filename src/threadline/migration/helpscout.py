"""Help Scout through its documented Mailbox API 2.0: an OAuth 2 client-credentials token
(`POST /v2/oauth2/token`, fetched again when it expires or a request answers 401), users, customers
(with their embedded emails, phones and social profiles), conversations with their threads
(`/v2/conversations?embed=threads`, HAL `_embedded`/`page`/`_links.next`), attachments' data
(`/v2/conversations/{id}/attachments/{id}/data`, base64) and satisfaction ratings (the happiness report lists
them, `/v2/ratings/{id}` gives each). 429 answers carry `X-RateLimit-Retry-After` (client.py)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from threadline.core import http
from threadline.core.time import now
from threadline.migration import records as r
from threadline.migration.client import SourceClient, SourceError

STATUS = {"active": "open", "pending": "pending", "closed": "closed", "spam": "closed"}
ROLE = {"owner": "admin", "admin": "admin", "user": "agent"}
SCORE = {"great": 5, "okay": 3, "not_good": 1, "not-good": 1}
NOTE_TYPES = {"note", "forwardparent", "forwardchild"}
EPOCH = "2011-01-01T00:00:00Z"


def _id(value: Any) -> str:
    return "" if value in (None, "") else str(value)


def _name(person: dict[str, Any]) -> str:
    return " ".join(p for p in (person.get("firstName") or person.get("first"),
                                person.get("lastName") or person.get("last")) if p)


class HelpScoutReader(r.SourceReader):
    name = "helpscout"
    stages = ("agents", "contacts", "tickets", "ratings")

    def __init__(self, base_url: str, client_id: str, client_secret: str, *, client: SourceClient | None = None) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.client = client or SourceClient(base_url)
        self.client.headers = self._headers
        self.client.reauthenticate = self._fetch_token
        self._token, self._expires = "", 0.0
        self.tokens_fetched = 0

    # ── OAuth 2 client credentials ─────────────────────────────────────────────────────────────────
    def _fetch_token(self) -> None:
        response = http.post_form(self.client.url("/v2/oauth2/token"), data={
            "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret})
        if response.status_code != 200:
            raise SourceError(f"Help Scout refused the client credentials ({response.status_code}).",
                              status=response.status_code, code="unauthorized")
        data = json.loads(response.body)
        self._token = data["access_token"]
        self._expires = time.monotonic() + max(int(data.get("expires_in") or 0) - 60, 0)
        self.tokens_fetched += 1

    def _headers(self) -> dict[str, str]:
        if not self._token or time.monotonic() >= self._expires:
            self._fetch_token()
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/hal+json"}

    # ── stages ─────────────────────────────────────────────────────────────────────────────────────
    def pages(self, stage: str, cursor: str) -> Iterator[r.Page]:
        return getattr(self, f"_{stage}")(cursor)

    def _hal(self, path: str, cursor: str, params: dict[str, Any], key: str) -> Iterator[tuple[list[Any], str]]:
        url, query = (cursor, None) if cursor.startswith("http") else (path, params)
        while url:
            data, _headers = self.client.get_json(url, query)
            following = ((data.get("_links") or {}).get("next") or {}).get("href") or ""
            page = data.get("page") or {}
            if following and page.get("number") and page.get("totalPages") and page["number"] >= page["totalPages"]:
                following = ""
            yield list((data.get("_embedded") or {}).get(key) or []), following
            url, query = following, None

    def _agents(self, cursor: str) -> Iterator[r.Page]:
        for items, following in self._hal("/v2/users", cursor, {}, "users"):
            agents = [r.Agent(id=_id(u["id"]), email=u.get("email") or "", name=_name(u),
                              role=ROLE.get(u.get("role") or "", "agent"))
                      for u in items if (u.get("type") or "user") == "user"]
            yield r.Page(agents, following, not following)

    def _contacts(self, cursor: str) -> Iterator[r.Page]:
        for items, following in self._hal("/v2/customers", cursor, {}, "customers"):
            contacts = []
            for c in items:
                embedded = c.get("_embedded") or {}
                handles = {p["type"]: p["value"] for p in embedded.get("social_profiles") or []
                           if p.get("type") in ("twitter", "facebook") and p.get("value")}
                contacts.append(r.Contact(
                    id=_id(c["id"]), name=_name(c), emails=[e["value"] for e in embedded.get("emails") or [] if e.get("value")],
                    phones=[p["value"] for p in embedded.get("phones") or [] if p.get("value")], handles=handles,
                    organization_name=(c.get("organization") or "")[:200], created_at=r.parse_time(c.get("createdAt")),
                    attributes={k: c[k] for k in ("jobTitle",) if c.get(k)},
                ))
            yield r.Page(contacts, following, not following)

    def _tickets(self, cursor: str) -> Iterator[r.Page]:
        since = cursor[len("since:"):] if cursor.startswith("since:") else EPOCH
        params = {"status": "all", "embed": "threads", "sortField": "modifiedAt", "sortOrder": "asc",
                  "modifiedSince": since}
        latest = since
        for items, following in self._hal("/v2/conversations", cursor if cursor.startswith("http") else "",
                                          params, "conversations"):
            tickets, skipped = [], []
            for c in items:
                latest = max(latest, c.get("userUpdatedAt") or c.get("modifiedAt") or latest)
                tickets.append(self._ticket(c))
            yield r.Page(tickets, following or f"since:{latest}", not following, skipped)

    def _ticket(self, c: dict[str, Any]) -> r.Ticket:
        cid = _id(c["id"])
        customer = c.get("primaryCustomer") or c.get("customer") or {}
        comments, skipped = [], []
        threads = sorted((c.get("_embedded") or {}).get("threads") or [], key=lambda t: (t.get("createdAt"), t["id"]))
        for t in threads:
            tid, kind = _id(t["id"]), t.get("type") or ""
            if kind == "lineitem":
                skipped.append((tid, "line_item", _("A line item (a status or assignment change), not a message.")))
                continue
            if (t.get("state") or "published") != "published":
                skipped.append((tid, "draft", _("A thread in state %(state)s was never sent.") % {"state": t.get("state")}))
                continue
            author = t.get("createdBy") or {}
            by_customer = kind == "customer" or author.get("type") == "customer"
            comments.append(r.Comment(
                id=tid, author_kind="contact" if by_customer else "agent", author_id=_id(author.get("id")),
                text="", html=t.get("body") or "", public=kind not in NOTE_TYPES, created_at=r.parse_time(t["createdAt"]),
                author_email=author.get("email") or "", author_name=_name(author),
                attachments=[r.Attachment(id=_id(a["id"]), filename=a.get("filename") or "attachment",
                                          content_type=a.get("mimeType") or "", size=int(a.get("size") or 0),
                                          url=((a.get("_links") or {}).get("data") or {}).get("href")
                                          or f"/v2/conversations/{cid}/attachments/{a['id']}/data")
                             for a in (t.get("_embedded") or {}).get("attachments") or []],
            ))
        tags = [t.get("tag") or t.get("name") for t in c.get("tags") or [] if t.get("tag") or t.get("name")]
        if c.get("status") == "spam":
            tags.append("spam")
        custom = {f"helpscout_{f['id']}": (f.get("name") or str(f["id"]), f.get("text") or f.get("value"))
                  for f in c.get("customFields") or [] if (f.get("text") or f.get("value")) not in (None, "")}
        status = STATUS.get(c.get("status") or "", "open")
        return r.Ticket(
            id=cid, subject=c.get("subject") or "", status=status, priority="normal",
            requester_id=_id(customer.get("id")), requester_email=customer.get("email") or "",
            requester_name=_name(customer), created_at=r.parse_time(c["createdAt"]),
            updated_at=r.parse_time(c.get("userUpdatedAt") or c.get("modifiedAt") or c["createdAt"]),
            solved_at=r.parse_time(c.get("closedAt")), assignee_id=_id((c.get("assignee") or {}).get("id")),
            tags=tags, custom_fields=custom, comments=comments, skipped_comments=skipped,
        )

    def _ratings(self, cursor: str) -> Iterator[r.Page]:
        since = cursor[len("since:"):] if cursor.startswith("since:") else EPOCH
        end = now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        page = 1
        while True:
            data, _headers = self.client.get_json("/v2/reports/happiness/ratings",
                                                  {"start": since, "end": end, "page": page})
            ratings, skipped = [], []
            for row in data.get("results") or []:
                rid = _id(row.get("ratingId"))
                rating, _h = self.client.get_json(f"/v2/ratings/{rid}")
                score = SCORE.get((rating.get("rating") or "").lower())
                if score is None:
                    skipped.append(("rating", rid, "no_score", _("The rating is %(rating)s: no score to keep.") % {"rating": rating.get("rating")}))
                    continue
                ratings.append(r.Rating(id=rid, ticket_id=_id(rating.get("conversationId")), score=score,
                                        comment=rating.get("comments") or "",
                                        created_at=r.parse_time(rating.get("createdAt")),
                                        contact_id=_id((rating.get("customer") or {}).get("id"))))
            done = page >= int(data.get("pages") or 1)
            yield r.Page(ratings, f"since:{end}" if done else f"since:{since}", done, skipped)
            if done:
                return
            page += 1

    def download(self, attachment: r.Attachment) -> bytes:
        from django.conf import settings

        limit = settings.THREADLINE["ATTACHMENT_MAX_BYTES"]
        data, _headers = self.client.get_json(attachment.url)
        raw = base64.b64decode(data.get("data") or "")
        if len(raw) > limit:
            raise http.TooLarge(f"{attachment.filename} is larger than {limit} bytes")
        return raw
