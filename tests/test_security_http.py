"""Issue 10, hole 7 (HTTP): a Content-Security-Policy without inline script on every page we render, Swagger UI
from the installed package, /metrics only for a token or loopback, and JSON from strangers that nests too
deeply or is too large answers 400 without a traceback."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.conf import settings
from django.db import transaction

from threadline.channels.api.adapter import sign
from threadline.channels.webchat.testkit import make_webchat_channel
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation
from threadline.tenancy.actions import do_create_setup_link
from threadline.testing import factories

SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
STYLE = re.compile(r"<style\b([^>]*)>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in (p.strip() for p in policy.split(";")) if part}


def assert_no_inline_script(response) -> None:
    policy = directives(response)
    assert policy["script-src"] == "'self'", policy
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    html = response.content.decode()
    for attributes in SCRIPT.findall(html):
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
    nonce = re.search(r"'nonce-([^']+)'", policy["style-src"])
    for attributes in STYLE.findall(html):
        assert nonce and f'nonce="{nonce.group(1)}"' in attributes, attributes
    assert not INLINE_HANDLER.search(html)


def test_every_page_we_render_has_a_policy_without_inline_script(client, admin):
    login = client.get("/login")
    assert_no_inline_script(login)
    assert directives(login)["frame-ancestors"] == "'none'"
    with transaction.atomic():
        raw = do_create_setup_link(admin.user)
    assert_no_inline_script(client.get(f"/setup/{raw}/"))
    client.force_login(admin.user)
    app = client.get("/app/")
    assert app.status_code == 200
    assert_no_inline_script(app)
    assert "ws://testserver" in directives(app)["connect-src"]
    channel = make_webchat_channel(admin, allowed_origins=["https://shop.example"])
    frame = client.get(f"/widget/{channel.pk}/")
    assert_no_inline_script(frame)
    assert directives(frame)["frame-ancestors"] == "https://shop.example"
    first, second = client.get("/login"), client.get("/login")
    assert directives(first)["style-src"] != directives(second)["style-src"]  # a fresh nonce per response


def test_swagger_ui_comes_from_the_installed_package(client):
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn.jsdelivr" not in html and "django-ninja.dev" not in html
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts and all(src.startswith("/static/ninja/") for src in scripts)
    for src in scripts + re.findall(r'<link[^>]*href="(/static/[^"]+)"', html):
        assert client.get(src).status_code == 200, src
    assert directives(docs)["script-src"] == "'self'"


def test_metrics_answer_loopback_or_the_token_only(client, settings, db):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    settings.THREADLINE = {**settings.THREADLINE, "METRICS_TOKEN": "m" * 32}
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    answer = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=f"Bearer {'m' * 32}")
    assert answer.status_code == 200 and b"threadline_http_requests_total" in answer.content


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def no_tracebacks(caplog):
    caplog.set_level(logging.INFO)
    yield
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


def test_nested_or_huge_json_from_strangers_is_a_400_without_a_traceback(client, admin, no_tracebacks):
    client.raise_request_exception = False
    channel = make_webchat_channel(admin)
    for body in ('{"token": ' + nested(100_000) + "}", '{"token": ' + nested(200) + "}",
                 json.dumps({"token": "x" * (2 * 1024 * 1024)})):
        answer = client.post(f"/widget/{channel.pk}/session", body, content_type="application/json")
        assert answer.status_code == 400, answer.content[:200]
        assert answer.json()["code"] in ("invalid_json", "payload_too_large")
    huge = b'{"token": "' + b"x" * (31 * 1024 * 1024) + b'"}'  # past DATA_UPLOAD_MAX_MEMORY_SIZE too
    assert client.post(f"/widget/{channel.pk}/session", huge, content_type="application/json").status_code == 400
    api_channel = factories.make_api_channel(admin)
    document = {"message_id": "m-1", "sender": {"kind": "email", "address": "dana@example.com"}, "text": "hi",
                "metadata": {"deep": "__NESTED__"}}
    for depth in (100_000, 500):
        raw = json.dumps(document).replace('"__NESTED__"', nested(depth)).encode()
        headers = {"HTTP_X_THREADLINE_SIGNATURE": sign(api_channel.config["secret"], raw)}
        answer = client.post(f"/hooks/api/{api_channel.pk}/", raw, content_type="application/json", **headers)
        assert answer.status_code == 400, answer.content[:200]
        assert answer.json()["code"] == "invalid_payload"


def test_the_public_surfaces_have_the_policy_too(client, admin):
    """The help center, the customer portal, the community and the survey pages (issue 10: "a CSP on the help
    pages"): the same policy, no inline script, not embeddable."""
    from threadline.bot.tests.helpers import publish_article
    from threadline.community.testkit import make_forum
    from threadline.helpcenter import pages
    from threadline.knowledge.models import HelpCenter
    from threadline.portal.actions import do_ensure_portal_channel
    from threadline.surveys.actions import do_save_survey
    from threadline.surveys.links import rating_url
    from threadline.surveys.models import SurveyRequest
    from threadline.testing.factories import make_api_channel

    translation = publish_article(admin, "en", "Returns", "How to return an order")
    center = HelpCenter.objects.get(workspace=admin.workspace)
    make_forum(admin)
    with transaction.atomic():
        do_ensure_portal_channel(admin.workspace)
        contact = Contact.objects.create(workspace=admin.workspace, name="Rae")
        conversation = Conversation.objects.create(workspace=admin.workspace, contact=contact,
                                                   origin_channel=make_api_channel(admin))
        request = SurveyRequest.objects.create(workspace=admin.workspace, survey=do_save_survey(admin, "csat", enabled=True),
                                               kind="csat", conversation=conversation, contact=contact)
    paths = ["/help/acme/en/", f"/portal/{admin.workspace.slug}/", "/community/acme/",
             rating_url(request.pk, 5).removeprefix(settings.PUBLIC_URL), pages.translation_url(center, translation)]
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        assert_no_inline_script(answer)
        assert directives(answer)["frame-ancestors"] == "'none'", path
