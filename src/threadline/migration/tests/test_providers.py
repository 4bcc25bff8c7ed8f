"""Each provider's fake at its documented HTTP boundary: authentication, pagination, rate limits and back-off,
errors, Help Scout's token refresh, and what each source skips with its reason."""

from __future__ import annotations

import base64

from threadline.conversations.models import Attachment
from threadline.migration.client import SourceClient, next_link
from threadline.migration.fixtures.generator import build
from threadline.migration.models import Skipped
from threadline.migration.runner import run_import
from threadline.migration.tests.helpers import assert_complete, reader, run, serving

EXPORT = build(40, customers=12)


def skipped_codes(workspace) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for kind, code in Skipped.objects.filter(workspace=workspace).values_list("kind", "code"):
        found[(kind, code)] = found.get((kind, code), 0) + 1
    return found


def test_zendesk_429_waits_what_retry_after_says_and_loses_nothing(admin):
    waits: list[float] = []
    with serving("zendesk", EXPORT, page_size=10) as fake:
        fake.rate_limit_every = 7
        report = run_import(admin.workspace, reader(fake, page_size=10, waits=waits), reindex=False)
        limited = sum(1 for n in range(1, len(fake.requests) + 1) if n % 7 == 0)
    assert report.error == ""
    assert limited > 5 and waits.count(2.0) == limited  # every 429 answered with a wait of its Retry-After
    assert_complete(admin.workspace, "zendesk", EXPORT)


def test_zendesk_follows_the_incremental_cursor_and_the_attachment_redirect_without_credentials(admin):
    with serving("zendesk", EXPORT, page_size=10) as fake:
        report = run(admin.workspace, fake, page_size=10)
        cursors = [p for p in fake.requests if p.startswith("/api/v2/incremental/tickets/cursor.json")]
        files = [p for p in fake.requests if p.startswith("/files/")]
    assert report.error == ""
    assert len(cursors) == 4 and "start_time=0" in cursors[0] and all("cursor=" in p for p in cursors[1:])
    assert len(files) == Attachment.objects.filter(workspace=admin.workspace).count() > 0
    assert skipped_codes(admin.workspace) == {("rating", "not_answered"): 1, ("attachment", "attachment_type_blocked"): 1}


def test_zendesk_wrong_token_stops_with_the_providers_answer(admin):
    with serving("zendesk", EXPORT) as fake:
        report = run_import(admin.workspace, reader(fake, secret="wrong"), reindex=False)
    assert "401" in report.error and report.counts == {}


def test_zendesk_a_ticket_whose_comments_are_gone_is_skipped_with_its_reason(admin):
    with serving("zendesk", EXPORT) as fake:
        gone = fake.tickets.pop(5)
        report = run(admin.workspace, fake)
        fake.tickets[5] = gone
    assert report.error == "" and report.counts["tickets"]["imported_ticket"] == len(EXPORT.tickets) - 1
    assert skipped_codes(admin.workspace)[("ticket", "not_found")] == 1


def test_freshdesk_follows_link_headers_and_goes_on_past_the_page_limit(admin):
    with serving("freshdesk", EXPORT, page_size=10, max_pages=2) as fake:
        source = reader(fake, page_size=7)
        source.max_pages = 2  # Freshdesk's 300, made small: the listing restarts from the last updated_at
        report = run_import(admin.workspace, source, reindex=False)
        listings = [p for p in fake.requests if p.startswith("/api/v2/tickets?")]
    assert report.error == ""
    assert any("page=2" in p for p in listings) and len({p.split("updated_since=")[1][:20] for p in listings}) > 2
    assert_complete(admin.workspace, "freshdesk", EXPORT)


def test_freshdesk_sends_the_api_key_as_basic_user_and_pauses_when_the_quota_is_spent(admin):
    waits: list[float] = []
    client = SourceClient("http://127.0.0.1", sleep=lambda s: None, waits=waits)
    with serving("freshdesk", EXPORT) as fake:
        client.base_url = fake.url
        client.headers = lambda: {"Authorization": "Basic " + base64.b64encode(b"s3cret:X").decode()}
        original = fake.handle

        def spent(method, path, headers, body):
            status, answer_headers, payload = original(method, path, headers, body)
            return status, {**answer_headers, "X-RateLimit-Remaining": "0", "Retry-After": "3"}, payload

        fake.handle = spent  # type: ignore[method-assign]
        data, headers = client.get_json("/api/v2/agents", {"per_page": 2})
    assert len(data) == 2 and next_link(headers).endswith("page=2")
    assert waits == [3.0]


def test_freshdesk_5xx_is_retried_with_backoff_then_reported(admin):
    waits: list[float] = []
    with serving("freshdesk", EXPORT) as fake:
        fake.fail_from = 1
        client = SourceClient(fake.url, sleep=lambda s: None, waits=waits, attempts=4, backoff=1.0)
        source = reader(fake)
        source.client = client
        client.headers = lambda: {"Authorization": "Basic " + base64.b64encode(b"s3cret:X").decode()}
        report = run_import(admin.workspace, source, reindex=False)
    assert "503" in report.error and waits == [1.0, 2.0, 4.0]


def test_helpscout_fetches_a_new_token_when_the_old_one_stops_working(admin):
    with serving("helpscout", EXPORT, page_size=10) as fake:
        source = reader(fake)
        original = fake.handle
        calls = {"n": 0}

        def expiring(method, path, headers, body):
            calls["n"] += 1
            if calls["n"] in (6, 20):
                fake.expire_tokens()  # the token expired on Help Scout's side: the next request answers 401
            return original(method, path, headers, body)

        fake.handle = expiring  # type: ignore[method-assign]
        report = run_import(admin.workspace, source, reindex=False)
    assert report.error == "" and fake.tokens_issued == 3 == source.tokens_fetched
    assert_complete(admin.workspace, "helpscout", EXPORT)
    lineitems = len([t for t in EXPORT.tickets if t.id % 10 == 0])
    assert skipped_codes(admin.workspace)[("comment", "line_item")] == lineitems


def test_helpscout_wrong_client_secret_is_reported(admin):
    with serving("helpscout", EXPORT) as fake:
        report = run_import(admin.workspace, reader(fake, secret="nope"), reindex=False)
    assert "client credentials" in report.error


def test_helpscout_429_waits_x_ratelimit_retry_after(admin):
    waits: list[float] = []
    with serving("helpscout", EXPORT, page_size=10) as fake:
        fake.rate_limit_every = 5
        report = run_import(admin.workspace, reader(fake, waits=waits), reindex=False)
    assert report.error == "" and waits and set(waits) == {2.0}
    assert_complete(admin.workspace, "helpscout", EXPORT)


def test_an_attachment_over_the_size_limit_is_skipped_with_its_reason(admin, settings):
    settings.THREADLINE = {**settings.THREADLINE, "ATTACHMENT_MAX_BYTES": 150}
    with serving("freshdesk", EXPORT) as fake:
        report = run(admin.workspace, fake)
    big = [f for f in EXPORT.files if len(f.content) > 150 and not f.filename.endswith(".exe")]
    assert report.error == "" and big
    assert skipped_codes(admin.workspace)[("attachment", "attachment_too_large")] == len(big)
    assert Attachment.objects.filter(workspace=admin.workspace).count() == \
        len([f for f in EXPORT.files if len(f.content) <= 150 and not f.filename.endswith(".exe")])


def test_credentials_never_go_to_a_host_other_than_the_providers(admin):
    seen: list[str] = []
    with serving("zendesk", EXPORT) as other:
        original = other.handle

        def record(method, path, headers, body):
            seen.append(headers.get("Authorization", ""))
            return original(method, path, headers, body)

        other.handle = record  # type: ignore[method-assign]
        client = SourceClient("http://localhost:1", headers=lambda: {"Authorization": "Basic secret"},
                              sleep=lambda s: None)
        client.get(f"{other.url}/files/{EXPORT.files[0].id}", max_bytes=10_000)  # a URL a payload named
    assert seen == [""]
