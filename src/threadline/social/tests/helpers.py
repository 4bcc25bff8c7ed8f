"""Meta channels serving the public feed, a local Graph API, and fixture replay for the social tests."""

from __future__ import annotations

from itertools import count

import pytest
from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.messenger.tests.test_messenger_channel import fixture
from threadline.channels.whatsapp.tests.helpers import meta_post

APP_SECRET = "meta-app-secret-0123456789"
PAGE, IG = "104213715622913", "17841405822304914"
POST = "104213715622913_826491029384756"
DANA_ASID, DANA_PSID = "5820193847561029", "6512345678901234"
COMMENT = "826491029384756_1092837465019283"


def comment(**values: str) -> bytes:
    defaults = {"page": PAGE, "author": DANA_ASID, "author_name": "Dana Levi", "comment": COMMENT, "parent": POST,
                "message": "My order 4471 arrived broken and nobody answers the phone. Terrible service!"}
    return fixture("feed_comment.json", **{**defaults, **values})


def ig_comment(**values: str) -> bytes:
    defaults = {"account": IG, "author": "5432109876543210", "username": "jana.novakova",
                "comment": "17865799348089039", "parent": "", "text": "Where can I buy the winter blend?"}
    return fixture("instagram_comment.json", **{**defaults, **values})


@pytest.fixture
def graph():
    """A local Graph API: comments/replies answer a new id, hides and deletes succeed, private replies answer
    the person's Page-scoped id, the mentioned comment is served."""
    fake = FakeProvider().start()
    ids = count(1)
    fake.handle("POST", f"/{COMMENT}/comments", lambda call: (
        200, fixture("comment_created.json", id=f"826491029384756_20000000000000{next(ids):02d}"),
        {"Content-Type": "application/json"}))
    for owner in (PAGE, IG):
        fake.route("POST", f"/{owner}/messages", 200, fixture("private_reply_response.json", psid=DANA_PSID),
                   {"Content-Type": "application/json"})
    fake.route("POST", f"/{COMMENT}", 200, fixture("success.json"), {"Content-Type": "application/json"})
    fake.route("DELETE", f"/{COMMENT}", 200, fixture("success.json"), {"Content-Type": "application/json"})
    fake.route("GET", f"/{IG}", 200, fixture("mentioned_comment.json"), {"Content-Type": "application/json"})
    fake.route("POST", "/17865799348089039/replies", 200, fixture("comment_created.json", id="17900000000000001"),
               {"Content-Type": "application/json"})
    fake.route("POST", f"/{IG}/mentions", 200, fixture("comment_created.json", id="17900000000000002"),
               {"Content-Type": "application/json"})
    fake.route("GET", f"/{DANA_PSID}", 200, fixture("profile_messenger.json"), {"Content-Type": "application/json"})
    yield fake
    fake.stop()


def meta_channel(admin, kind: str, graph_url: str, *, page: str | None = None, secret: str = APP_SECRET):
    with transaction.atomic():
        return do_create_channel(admin, kind, kind.title(), {
            "page_id": page or (PAGE if kind == "messenger" else IG), "access_token": "EAAG-page-token",
            "app_secret": secret, "verify_token": "verify-token-0123", "graph_base_url": graph_url})


def deliver(client, run_jobs, channel, body: bytes, status: int = 202, **extra):
    response = meta_post(client, channel, body, **extra)
    assert response.status_code == status, response.content
    run_jobs()
    return response
