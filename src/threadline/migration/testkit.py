"""Local fakes of Zendesk, Freshdesk and Help Scout for tests and trials: a loopback HTTP server that serves a
generated export (`fixtures/generator.py`) in the provider's documented request/response shapes, starting from
the documented example payloads in `fixtures/<provider>.json`: authentication (basic token, API key, OAuth 2
client credentials with expiring tokens), the provider's pagination (incremental cursors, Link headers, HAL
pages), rate-limit headers and 429s, attachments (Zendesk's redirect, Help Scout's base64 data) and faults
(5xx from a given request on) to test a crash and the resume."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import json
import secrets
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from threadline.migration.fixtures.generator import Export, File, Ticket
from threadline.testing.serving import Handler as QuickHandler
from threadline.testing.serving import serve_in_thread, stop_serving

FIXTURES = Path(__file__).parent / "fixtures"
Answer = tuple[int, dict[str, str], bytes]


def iso(value: dt.datetime, *, zone: bool = True) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if zone else "")


@functools.cache
def examples(provider: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{provider}.json").read_text()))


def example(provider: str, shape: str, /, **values: Any) -> dict[str, Any]:
    """The provider's documented example of `shape`, with `values` in place of the example's."""
    data = copy.deepcopy(examples(provider)[shape])
    data.update(values)
    return data


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(data).encode()


class FakeProvider:
    """`kind` is zendesk, freshdesk or helpscout. Faults: `rate_limit_every` (every Nth request gets a 429),
    `fail_from` (every request from the Nth on gets a 503), `expire_tokens()` (Help Scout tokens stop working)."""

    def __init__(self, kind: str, export: Export, *, user: str = "admin@acme.example", secret: str = "s3cret",
                 page_size: int = 100, max_pages: int = 300) -> None:
        self.kind, self.export, self.user, self.secret = kind, export, user, secret
        self.page_size, self.max_pages = page_size, max_pages
        self.rate_limit_every = 0
        self.fail_from: int | None = None
        self.delay = 0.0  # seconds before each answer (a slow provider, so a test can kill an import mid-run)
        self.requests: list[str] = []
        self.tokens: set[str] = set()
        self.tokens_issued = 0
        self.files = {f.id: f for f in export.files}
        self.tickets = {t.id: t for t in export.tickets}
        self.server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    # ── server ─────────────────────────────────────────────────────────────────────────────────────
    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeProvider:
        fake = self

        class Handler(QuickHandler):
            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    status, headers, payload = fake.handle(method, self.path, dict(self.headers.items()), body)
                except Exception as exc:  # noqa: BLE001 - a fake's own bug answers 500, visibly
                    status, headers, payload = _json({"error": repr(exc)}, 500)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._answer("POST")

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve_in_thread(self.server)
        return self

    def stop(self) -> None:
        if self.server is not None:
            stop_serving(self.server)

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Answer:
        parsed = urlparse(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        with self._lock:
            self.requests.append(raw_path)
            count = len(self.requests)
        if self.delay:
            time.sleep(self.delay)
        if self.fail_from is not None and count >= self.fail_from:
            return _json({"error": "unavailable"}, 503)
        if self.rate_limit_every and count % self.rate_limit_every == 0:
            header = "X-RateLimit-Retry-After" if self.kind == "helpscout" else "Retry-After"
            return _json({"error": "TooManyRequests"}, 429, {header: "2"})
        if self.kind == "helpscout" and method == "POST" and parsed.path == "/v2/oauth2/token":
            return self._token(body)
        if parsed.path.startswith("/files/"):  # Zendesk's and Freshdesk's attachment storage: no credentials
            found = self.files.get(int(parsed.path.rsplit("/", 1)[1]))
            return (200, {"Content-Type": found.content_type}, found.content) if found else _json({}, 404)
        if not self._authorized(headers.get("Authorization", "")):
            return _json({"error": "Couldn't authenticate you"}, 401)
        route = getattr(self, f"_{self.kind}")
        return route(parsed.path, query)

    def _authorized(self, value: str) -> bool:
        if self.kind == "zendesk":
            return value == "Basic " + base64.b64encode(f"{self.user}/token:{self.secret}".encode()).decode()
        if self.kind == "freshdesk":
            return value == "Basic " + base64.b64encode(f"{self.secret}:X".encode()).decode()
        return value.startswith("Bearer ") and value[7:] in self.tokens

    def _page(self, items: list[Any], offset: int, size: int | None = None) -> tuple[list[Any], int | None]:
        size = size or self.page_size
        end = offset + size
        return items[offset:end], (end if end < len(items) else None)

    # ── Zendesk ────────────────────────────────────────────────────────────────────────────────────
    def _zendesk(self, path: str, q: dict[str, str]) -> Answer:
        e, size = self.export, int(q.get("per_page") or q.get("page[size]") or self.page_size)
        if path == "/api/v2/incremental/organizations.json":
            start = int(q.get("start_time") or 0)
            base = int(dt.datetime(2022, 1, 1, tzinfo=dt.UTC).timestamp())
            rows = [o for o in e.organizations if base + o[0] >= start]
            page, more = self._page(rows, 0, size)
            end = base + page[-1][0] + 1 if page else start
            return _json({"organizations": [example("zendesk", "organization", id=o[0], name=o[1], domain_names=o[2])
                                            for o in page],
                          "end_time": end, "end_of_stream": more is None, "count": len(page),
                          "next_page": f"{self.url}{path}?start_time={end}"})
        if path in ("/api/v2/incremental/users/cursor.json", "/api/v2/incremental/tickets/cursor.json"):
            offset = int(base64.b64decode(q["cursor"]).decode()) if q.get("cursor") else 0
            if path.endswith("users/cursor.json"):
                rows: list[Any] = [self._zd_agent(a) for a in e.agents] + [self._zd_customer(c) for c in e.customers]
                key = "users"
            else:
                rows, key = e.tickets, "tickets"
            page, more = self._page(rows, offset, size)
            after = base64.b64encode(str(offset + len(page)).encode()).decode()
            data: dict[str, Any] = {key: page if key == "users" else [self._zd_ticket(t) for t in page],
                                    "after_cursor": after, "before_cursor": None, "end_of_stream": more is None,
                                    "after_url": f"{self.url}{path}?cursor={after}"}
            if key == "tickets" and q.get("include") == "metric_sets":
                data["metric_sets"] = [example("zendesk", "metric_set", id=t.id, ticket_id=t.id,
                                               solved_at=iso(t.solved_at) if t.solved_at else None) for t in page]
            return _json(data)
        if path == "/api/v2/ticket_fields.json":
            return _json({"ticket_fields": [example("zendesk", "ticket_field", id=i, title=title)
                                            for i, title in e.fields.items()]})
        if path.startswith("/api/v2/tickets/") and path.endswith("/comments.json"):
            ticket = self.tickets.get(int(path.split("/")[4]))
            if ticket is None:
                return _json({"error": "RecordNotFound"}, 404)
            return _json({"comments": [self._zd_comment(c) for c in ticket.comments], "meta": {"has_more": False},
                          "links": {"next": None}})
        if path.startswith("/attachments/token/"):  # content_url: a redirect to the file's storage
            return 302, {"Location": f"/files/{path.split('/')[3]}"}, b""
        if path == "/api/v2/satisfaction_ratings.json":
            rated = [t for t in e.tickets if t.rating]
            offset = int(q.get("page[after]") or 0)
            page, more = self._page(rated, offset, size)
            following = f"{self.url}{path}?{urlencode({'page[size]': size, 'page[after]': more})}" if more else None
            return _json({"satisfaction_ratings": [
                example("zendesk", "satisfaction_rating", id=t.rating[0], ticket_id=t.id, requester_id=t.requester,
                        score=t.rating[1], comment=t.rating[2], created_at=iso(t.rating[3]),
                        updated_at=iso(t.rating[3])) for t in page if t.rating]
                + ([example("zendesk", "satisfaction_rating", id=999999, ticket_id=1, score="offered", comment="")]
                   if offset == 0 else []),
                "meta": {"has_more": more is not None}, "links": {"next": following}})
        return _json({"error": "InvalidEndpoint"}, 404)

    def _zd_agent(self, a: tuple[int, str, str, str]) -> dict[str, Any]:
        return example("zendesk", "user", id=a[0], name=a[1], email=a[2], role=a[3], organization_id=None)

    def _zd_customer(self, c: tuple[Any, ...]) -> dict[str, Any]:
        return example("zendesk", "user", id=c[0], name=c[1], email=c[2], phone=c[3], role="end-user",
                       locale=c[4], organization_id=c[5], iana_time_zone="Europe/Prague")

    def _zd_ticket(self, t: Ticket) -> dict[str, Any]:
        return example("zendesk", "ticket", id=t.id, subject=t.subject, raw_subject=t.subject,
                       description=t.comments[0].text, priority=t.priority, status=t.status, requester_id=t.requester,
                       submitter_id=t.requester, assignee_id=t.assignee, tags=t.tags,
                       custom_fields=[{"id": i, "value": t.custom.get(i)} for i in self.export.fields],
                       created_at=iso(t.created_at), updated_at=iso(t.updated_at))

    def _zd_comment(self, c: Any) -> dict[str, Any]:
        return example("zendesk", "comment", id=c.id, author_id=c.author, body=c.text, plain_body=c.text,
                       html_body=f'<div class="zd-comment"><p dir="auto">{c.text}</p></div>', public=c.public,
                       created_at=iso(c.created_at), attachments=[
                           example("zendesk", "attachment", id=f.id, file_name=f.filename, content_type=f.content_type,
                                   size=len(f.content), content_url=f"{self.url}/attachments/token/{f.id}/?name={f.filename}")
                           for f in c.files])

    # ── Freshdesk ──────────────────────────────────────────────────────────────────────────────────
    def _fd_list(self, path: str, q: dict[str, str], rows: list[Any], extra: dict[str, str] | None = None) -> Answer:
        size, number = int(q.get("per_page") or 30), int(q.get("page") or 1)
        page, more = self._page(rows, (number - 1) * size, size)
        headers = {"X-RateLimit-Total": "700", "X-RateLimit-Remaining": "699", "X-RateLimit-Used-CurrentRequest": "1"}
        if more is not None and number < self.max_pages:
            headers["Link"] = f'<{self.url}{path}?{urlencode({**(extra or {}), "per_page": size, "page": number + 1})}>; rel="next"'
        return _json(page, headers=headers)

    def _freshdesk(self, path: str, q: dict[str, str]) -> Answer:
        e = self.export
        if path == "/api/v2/agents":
            return self._fd_list(path, q, [example("freshdesk", "agent", id=a[0], contact={
                **example("freshdesk", "agent")["contact"], "name": a[1], "email": a[2]}) for a in e.agents])
        if path == "/api/v2/companies":
            return self._fd_list(path, q, [example("freshdesk", "company", id=o[0], name=o[1], domains=o[2])
                                           for o in e.organizations])
        if path == "/api/v2/contacts":
            return self._fd_list(path, q, [example("freshdesk", "contact", id=c[0], name=c[1], email=c[2], phone=c[3],
                                                   language=c[4], company_id=c[5], active=True,
                                                   twitter_id=f"cust{c[0]}" if c[0] % 5 == 0 else None)
                                           for c in e.customers])
        if path == "/api/v2/tickets":
            since = q.get("updated_since") or "1970-01-01T00:00:00Z"
            rows = sorted((t for t in e.tickets if iso(t.updated_at) >= since), key=lambda t: (t.updated_at, t.id))
            extra = {k: q[k] for k in ("updated_since", "order_by", "order_type") if k in q}
            return self._fd_list(path, q, [self._fd_ticket(t, listed=True) for t in rows], extra)
        parts = path.split("/")
        if path.startswith("/api/v2/tickets/") and len(parts) == 5:
            ticket = self.tickets.get(int(parts[4]))
            return _json(self._fd_ticket(ticket)) if ticket else _json({"code": "not_found"}, 404)
        if path.startswith("/api/v2/tickets/") and path.endswith("/conversations"):
            ticket = self.tickets[int(parts[4])]
            return self._fd_list(path, q, [example(
                "freshdesk", "conversation", id=c.id, body=f"<div>{c.text}</div>", body_text=c.text,
                incoming=not c.by_agent, private=not c.public, user_id=c.author, ticket_id=ticket.id,
                source=2 if not c.public else 0, created_at=iso(c.created_at), updated_at=iso(c.created_at),
                attachments=[self._fd_file(f) for f in c.files]) for c in ticket.comments[1:]])
        if path == "/api/v2/surveys/satisfaction_ratings":
            since = q.get("created_since") or "1970-01-01T00:00:00Z"
            rows = [example("freshdesk", "satisfaction_rating", id=t.rating[0], user_id=t.requester, agent_id=t.assignee,
                            feedback=t.rating[2], ticket_id=t.id, created_at=iso(t.rating[3]), updated_at=iso(t.rating[3]),
                            ratings={"default_question": 103 if t.rating[1] == "good" else -103})
                    for t in e.tickets if t.rating and iso(t.rating[3]) >= since]
            return self._fd_list(path, q, rows, {"created_since": since})
        return _json({"code": "invalid_url"}, 404)

    def _fd_file(self, f: File) -> dict[str, Any]:
        return example("freshdesk", "attachment", id=f.id, name=f.filename, content_type=f.content_type,
                       size=len(f.content), attachment_url=f"{self.url}/files/{f.id}")

    def _fd_ticket(self, t: Ticket, *, listed: bool = False) -> dict[str, Any]:
        status = {"new": 2, "open": 2, "pending": 3, "hold": 3, "solved": 4, "closed": 5}[t.status]
        priority = {"low": 1, "normal": 2, "high": 3, "urgent": 4}[t.priority]
        first = t.comments[0]
        data = example("freshdesk", "ticket", id=t.id, subject=t.subject, status=status, priority=priority,
                       requester_id=t.requester, responder_id=t.assignee, tags=t.tags,
                       custom_fields={f"cf_{self.export.fields[i].lower().replace(' ', '_')}": v for i, v in t.custom.items()},
                       created_at=iso(t.created_at), updated_at=iso(t.updated_at),
                       description=f"<div>{first.text}</div>", description_text=first.text,
                       attachments=[self._fd_file(f) for f in first.files])
        data["stats"] = {**data["stats"], "resolved_at": iso(t.solved_at) if t.solved_at and t.status == "solved" else None,
                         "closed_at": iso(t.solved_at) if t.solved_at and t.status == "closed" else None}
        if listed:  # the list answers no description, attachments or stats
            for key in ("description", "description_text", "attachments", "stats"):
                data.pop(key)
        return data

    # ── Help Scout ─────────────────────────────────────────────────────────────────────────────────
    def _token(self, body: bytes) -> Answer:
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != self.user \
                or form.get("client_secret") != self.secret:
            return _json({"error": "invalid_client"}, 401)
        token = secrets.token_hex(16)
        self.tokens.add(token)
        self.tokens_issued += 1
        return _json(example("helpscout", "token", access_token=token))

    def _hal(self, path: str, q: dict[str, str], key: str, rows: list[Any], extra: dict[str, str] | None = None) -> Answer:
        number = int(q.get("page") or 1)
        page, more = self._page(rows, (number - 1) * self.page_size)
        pages = max(1, -(-len(rows) // self.page_size))
        links = {"self": {"href": f"{self.url}{path}?page={number}"}}
        if more is not None:
            links["next"] = {"href": f"{self.url}{path}?{urlencode({**(extra or {}), 'page': number + 1})}"}
        return _json({"_embedded": {key: page}, "_links": links,
                      "page": {"size": self.page_size, "totalElements": len(rows), "totalPages": pages, "number": number}},
                     headers={"X-RateLimit-Limit-Minute": "400", "X-RateLimit-Remaining-Minute": "399"})

    def _helpscout(self, path: str, q: dict[str, str]) -> Answer:
        e = self.export
        if path == "/v2/users":
            return self._hal(path, q, "users", [example("helpscout", "user", id=a[0], firstName=a[1].split()[0],
                                                        lastName=a[1].split()[1], email=a[2],
                                                        role="owner" if a[3] == "admin" else "user") for a in e.agents])
        if path == "/v2/customers":
            return self._hal(path, q, "customers", [self._hs_customer(c) for c in e.customers])
        if path == "/v2/conversations":
            since = q.get("modifiedSince") or "2011-01-01T00:00:00Z"
            rows = sorted((t for t in e.tickets if iso(t.updated_at) >= since), key=lambda t: (t.updated_at, t.id))
            extra = {k: q[k] for k in ("status", "embed", "sortField", "sortOrder", "modifiedSince") if k in q}
            return self._hal(path, q, "conversations", [self._hs_conversation(t) for t in rows], extra)
        parts = path.split("/")
        if path.startswith("/v2/conversations/") and path.endswith("/data"):
            found = self.files.get(int(parts[5]))
            return _json({"data": base64.b64encode(found.content).decode()}) if found else _json({}, 404)
        if path == "/v2/reports/happiness/ratings":
            rows = [{"number": t.id, "id": t.id, "type": "email", "threadid": t.comments[-1].id, "ratingId": t.rating[0],
                     "ratingCustomerId": t.requester, "rating": 1 if t.rating[1] == "good" else 3,
                     "ratingComments": t.rating[2], "ratingCreatedAt": iso(t.rating[3])}
                    for t in e.tickets if t.rating]
            number = int(q.get("page") or 1)
            page, _more = self._page(rows, (number - 1) * 50, 50)
            return _json({"results": page, "page": number, "pages": max(1, -(-len(rows) // 50)), "count": len(rows)})
        if path.startswith("/v2/ratings/"):
            ticket = next((t for t in e.tickets if t.rating and t.rating[0] == int(parts[3])), None)
            if ticket is None or ticket.rating is None:
                return _json({}, 404)
            return _json(example("helpscout", "rating", id=ticket.rating[0], threadId=ticket.comments[-1].id,
                                 conversationId=ticket.id, conversationNumber=ticket.id,
                                 rating="great" if ticket.rating[1] == "good" else "not_good", comments=ticket.rating[2],
                                 createdAt=iso(ticket.rating[3], zone=False),
                                 customer={"id": ticket.requester, "email": "", "firstName": "", "lastName": ""}))
        return _json({"error": "not found"}, 404)

    def _hs_customer(self, c: tuple[Any, ...]) -> dict[str, Any]:
        data = example("helpscout", "customer", id=c[0], firstName=c[1].split()[0], lastName=c[1].split()[1],
                       organization=f"Company {c[5] - 500}" if c[5] else "")
        data["_embedded"] = {**data["_embedded"], "emails": [{"id": 1, "value": c[2], "type": "work"}],
                             "phones": [{"id": 1, "value": c[3], "type": "work"}],
                             "social_profiles": [{"id": 1, "value": f"@cust{c[0]}", "type": "twitter"}] if c[0] % 5 == 0 else []}
        return data

    def _hs_conversation(self, t: Ticket) -> dict[str, Any]:
        customers = {c[0]: c for c in self.export.customers}
        customer = customers[t.requester]
        person = {"id": customer[0], "type": "customer", "first": customer[1].split()[0],
                  "last": customer[1].split()[1], "email": customer[2]}
        status = {"new": "active", "open": "active", "pending": "pending", "hold": "pending", "solved": "closed",
                  "closed": "closed"}[t.status]
        threads = []
        for c in t.comments:
            kind = "note" if not c.public else "reply" if c.by_agent else "customer"
            author = {"id": c.author, "type": "user"} if c.by_agent else person
            threads.append(example("helpscout", "thread", id=c.id, type=kind, body=c.text, createdBy=author,
                                   customer=person, createdAt=iso(c.created_at), openedAt=iso(c.created_at),
                                   _embedded={"attachments": [example(
                                       "helpscout", "attachment", id=f.id, filename=f.filename, mimeType=f.content_type,
                                       size=len(f.content),
                                       _links={"data": {"href": f"{self.url}/v2/conversations/{t.id}/attachments/{f.id}/data"},
                                               "web": {"href": ""}}) for f in c.files]}))
        if t.id % 10 == 0:
            threads.append(example("helpscout", "thread", id=9_000_000 + t.id, type="lineitem", body="",
                                   action={"type": "changed-ticket-status", "text": "marked as Closed"},
                                   createdAt=iso(t.updated_at), createdBy={"id": t.assignee or 100, "type": "user"}))
        return example("helpscout", "conversation", id=t.id, number=t.id, threads=len(threads), status=status,
                       subject=t.subject, createdAt=iso(t.created_at), userUpdatedAt=iso(t.updated_at),
                       closedAt=iso(t.solved_at) if t.solved_at else None, primaryCustomer=person, createdBy=person,
                       assignee={"id": t.assignee, "type": "user"} if t.assignee else None,
                       tags=[{"id": i, "color": "#929499", "tag": name} for i, name in enumerate(t.tags)],
                       customFields=[{"id": i, "name": self.export.fields[i], "value": v, "text": v}
                                     for i, v in t.custom.items()],
                       _embedded={"threads": threads})
