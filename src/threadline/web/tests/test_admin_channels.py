"""/app/admin/channels: every kind set up through the screen's forms gives a working channel (the kind's own
fixture payload, signed as its provider signs it, is accepted on the webhook URL the screen shows); secrets
never appear in a rendered page; permissions and workspaces; the email address claim conflict; the
connection test against the fake providers; the test email through a real SMTP server; disabling."""

from __future__ import annotations

import json
import re
import time
from html import unescape
from pathlib import Path

import pytest
from django.db import transaction

from threadline.audit.models import AuditEntry
from threadline.channels.email.testkit import SmtpSink
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.line.adapter import signature as line_signature
from threadline.channels.models import Channel, InboundEvent
from threadline.channels.sms.tests.helpers import sign as twilio_sign
from threadline.channels.wechat import crypto
from threadline.channels.whatsapp.tests.helpers import meta_signature
from threadline.tenancy.models import Role
from threadline.testing import factories
from threadline.web.tests.helpers import customer_writes

CHANNELS = Path(__file__).resolve().parents[2] / "channels"
PUBLIC_URL = "https://support.example.com"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_URL = PUBLIC_URL


def fixture(kind: str, name: str) -> bytes:
    return (CHANNELS / kind / "fixtures" / name).read_bytes()


def create(client, kind: str, data: dict) -> tuple[object, Channel | None]:
    before = set(Channel.objects.values_list("pk", flat=True))
    page = client.post(f"/app/admin/channels/new/{kind}", data)
    made = Channel.objects.exclude(pk__in=before).first()
    return page, made


# ── every kind through the screen, then its provider's payload on the shown webhook URL ──────────────
def _telegram(client, channel):
    return client.post(f"/hooks/telegram/{channel.pk}/", fixture("telegram", "text.json"),
                       content_type="application/json",
                       HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=channel.config["secret_token"])


def _meta(kind_folder: str, name: str):
    def post(client, channel):
        body = fixture(kind_folder, name)
        return client.post(f"/hooks/{channel.kind}/{channel.pk}/", body, content_type="application/json",
                           HTTP_X_HUB_SIGNATURE_256=meta_signature(body, channel.config["app_secret"]))
    return post


def _twilio(name: str):
    def post(client, channel):
        body = fixture(channel.kind, name).decode().strip()
        path = f"/hooks/{channel.kind}/{channel.pk}/"
        return client.post(path, body, content_type="application/x-www-form-urlencoded",
                           HTTP_X_TWILIO_SIGNATURE=twilio_sign(PUBLIC_URL + path, body, channel.config["auth_token"]))
    return post


def _line(client, channel):
    body = fixture("line", "text.json")
    return client.post(f"/hooks/line/{channel.pk}/", body, content_type="application/json",
                       HTTP_X_LINE_SIGNATURE=line_signature(channel.config["channel_secret"], body))


def _wechat(client, channel):
    timestamp, nonce = str(int(time.time())), "1320562132"
    query = {"signature": crypto.sha1_signature(channel.config["token"], timestamp, nonce), "timestamp": timestamp,
             "nonce": nonce, "openid": "oUser"}
    path = f"/hooks/wechat/{channel.pk}/?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.post(path, fixture("wechat", "text.xml"), content_type="text/xml")


def _api(client, channel):
    from threadline.channels.api.adapter import sign

    body = json.dumps({"message_id": "m-1", "sender": {"address": "cust-1"}, "text": "Hello"}).encode()
    return client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json",
                       HTTP_X_THREADLINE_SIGNATURE=sign(channel.config["secret"], body))


KINDS = {
    "telegram": ({"name": "Bot", "bot_token": "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}, _telegram,
                 "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
    "whatsapp": ({"name": "WA", "phone_number_id": "106540352242922", "access_token": "EAAG-secret-token-wa",
                  "app_secret": "meta-app-secret-0123456789"}, _meta("whatsapp", "text.json"), "EAAG-secret-token-wa"),
    "messenger": ({"name": "FB", "page_id": "104213715622913", "access_token": "EAAG-secret-page-token",
                   "app_secret": "meta-app-secret-0123456789", "human_agent_tag": "on"},
                  _meta("messenger", "text.json"), "meta-app-secret-0123456789"),
    "instagram": ({"name": "IG", "page_id": "17841405822304914", "access_token": "EAAG-secret-ig-token",
                   "app_secret": "meta-app-secret-0123456789"}, _meta("messenger", "instagram_text.json"),
                  "EAAG-secret-ig-token"),
    "sms": ({"name": "SMS", "account_sid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
             "auth_token": "12345678901234567890123456789012", "from_number": "+15017122661",
             "status_callbacks": "on"}, _twilio("inbound_text.form"), "12345678901234567890123456789012"),
    "voice": ({"name": "Phone", "account_sid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
               "auth_token": "12345678901234567890123456789012", "phone_number": "+15017122661"},
              _twilio("incoming_call.form"), "12345678901234567890123456789012"),
    "line": ({"name": "LINE", "channel_secret": "line-channel-secret-0123", "channel_access_token": "line-token-secret",
              "allow_push": "on", "reply_token_seconds": "50"}, _line, "line-channel-secret-0123"),
    "wechat": ({"name": "WeChat", "app_id": "wx1234567890", "app_secret": "wechat-app-secret-0123"}, _wechat,
               "wechat-app-secret-0123"),
    "api": ({"name": "API", "webhook_url": ""}, _api, None),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_set_up_through_the_screen_accepts_its_providers_payload(client, admin, kind):
    data, post, secret = KINDS[kind]
    client.force_login(admin.user)
    assert client.get(f"/app/admin/channels/new/{kind}").status_code == 200
    page, channel = create(client, kind, data)
    assert page.status_code == 201, page.content.decode()[:2000]
    html = page.content.decode()
    webhook = f"{PUBLIC_URL}/hooks/{kind}/{channel.pk}/"
    assert webhook in html  # the exact URL to paste at the provider
    for name in ("verify_token", "secret_token", "token", "secret"):  # generated values: shown this once
        if name in channel.config and name not in data:
            assert channel.config[name] in html
    answer = post(client, channel)
    assert answer.status_code in (200, 202), answer.content
    assert InboundEvent.objects.filter(channel=channel).count() == 1
    channel.refresh_from_db()
    assert channel.last_event_at is not None
    # afterwards the channel's own page never shows a secret again
    later = client.get(f"/app/admin/channels/{channel.pk}").content.decode()
    for value in [secret, *(channel.config.get(n) for n in ("verify_token", "secret_token", "token", "secret"))]:
        if value:
            assert value not in later
    assert webhook in later
    assert AuditEntry.objects.filter(action="channel.created", target_id=str(channel.pk)).exists()


def test_meta_handshake_uses_the_generated_verify_token(client, admin):
    client.force_login(admin.user)
    page, channel = create(client, "whatsapp", KINDS["whatsapp"][0])
    token = channel.config["verify_token"]
    assert token in page.content.decode()
    hub = client.get(f"/hooks/whatsapp/{channel.pk}/", {"hub.mode": "subscribe", "hub.verify_token": token,
                                                         "hub.challenge": "CHALLENGE"})
    assert hub.content == b"CHALLENGE"


def test_edit_keeps_a_secret_left_empty_and_replaces_a_typed_one(client, admin):
    client.force_login(admin.user)
    _page, channel = create(client, "telegram", KINDS["telegram"][0])
    form = {"name": "Renamed", "bot_token": "", "secret_token": "", "api_base_url": "https://api.telegram.org"}
    assert client.post(f"/app/admin/channels/{channel.pk}", form).status_code == 302
    channel.refresh_from_db()
    assert channel.name == "Renamed"
    assert channel.config["bot_token"] == KINDS["telegram"][0]["bot_token"]
    renamed = AuditEntry.objects.filter(target_id=str(channel.pk)).order_by("-pk").first()
    assert renamed.action == "channel.updated" and renamed.details["config"] == []  # no secret was touched
    page = client.get(f"/app/admin/channels/{channel.pk}").content.decode()
    assert "Saved." in page and channel.config["bot_token"] not in page
    assert 'type="password" name="bot_token"' in page and '>set<' in page
    client.post(f"/app/admin/channels/{channel.pk}", {**form, "bot_token": "7000000002:NEWtokenNEWtokenNEW"})
    channel.refresh_from_db()
    assert channel.config["bot_token"] == "7000000002:NEWtokenNEWtokenNEW"
    assert AuditEntry.objects.filter(action="channel.secret_changed", target_id=str(channel.pk)).exists()


def test_a_refused_form_says_why_and_echoes_no_secret(client, admin):
    client.force_login(admin.user)
    page, channel = create(client, "whatsapp", {"name": "WA", "phone_number_id": "1", "access_token": "short",
                                                "app_secret": "meta-app-secret-0123456789"})
    assert channel is None and page.status_code == 400
    html = page.content.decode()
    assert "access_token" in html and "meta-app-secret-0123456789" not in html


# ── email ─────────────────────────────────────────────────────────────────────────────────────────────
def test_email_set_up_claims_the_address_and_another_workspace_is_refused(client, admin):
    from threadline.channels.email.edge import route

    client.force_login(admin.user)
    page, channel = create(client, "email", {"name": "Support", "address": "help@acme.example",
                                             "aliases": "sales@acme.example"})
    assert page.status_code == 201
    assert route("help@acme.example").channel == channel and route("sales@acme.example").channel == channel
    other = factories.make_workspace(name="Squatter")
    client.force_login(other.user)
    page, made = create(client, "email", {"name": "Mine", "address": "help@acme.example"})
    assert made is None and page.status_code == 409
    assert "belongs to another workspace" in page.content.decode()


def test_email_imap_credentials_are_a_group_whose_password_is_kept_when_left_empty(client, admin):
    client.force_login(admin.user)
    imap = {"imap.enabled": "on", "imap.host": "imap.acme.example", "imap.port": "993", "imap.username": "support",
            "imap.password": "imap-pass-0123", "imap.security": "tls", "imap.verify_tls": "on", "imap.mailbox": "INBOX"}
    page, channel = create(client, "email", {"name": "Support", "address": "help@acme.example", **imap})
    assert page.status_code == 201
    assert channel.config["imap"]["password"] == "imap-pass-0123" and channel.config["imap"]["port"] == 993
    html = client.get(f"/app/admin/channels/{channel.pk}").content.decode()
    assert "imap-pass-0123" not in html and 'value="imap.acme.example"' in html
    edit = {"name": "Support", "address": "help@acme.example", **imap, "imap.password": "", "imap.mailbox": "Support"}
    assert client.post(f"/app/admin/channels/{channel.pk}", edit).status_code == 302
    channel.refresh_from_db()
    assert channel.config["imap"] == {**channel.config["imap"], "password": "imap-pass-0123", "mailbox": "Support"}
    del edit["imap.enabled"]  # unticked: the channel no longer polls a mailbox
    client.post(f"/app/admin/channels/{channel.pk}", edit)
    channel.refresh_from_db()
    assert channel.config["imap"] is None


@pytest.fixture
def sink():
    relay = SmtpSink(auth=("relay-user", "relay-pass-0123")).start()
    yield relay
    relay.stop()


def test_send_a_test_email_through_the_relay_signed_with_a_generated_dkim_key(client, admin, sink):
    import dkim

    client.force_login(admin.user)
    relay = sink.url.replace("smtp://", "smtp://relay-user:relay-pass-0123@")
    _page, channel = create(client, "email", {"name": "Support", "address": "help@acme.example",
                                              "relay_url": relay})
    assert client.post(f"/app/admin/channels/{channel.pk}/signing-key", {"selector": "tl2026"}).status_code == 302
    channel.refresh_from_db()
    key = channel.config["dkim_private_key"]
    page = client.get(f"/app/admin/channels/{channel.pk}").content.decode()
    assert "tl2026._domainkey.acme.example" in page and "v=DKIM1; k=rsa; p=" in page
    assert "PRIVATE KEY" not in page and key.splitlines()[1] not in page
    assert "relay-pass-0123" not in page and f"smtp://relay-user:********@127.0.0.1:{sink.port}" in page
    answer = client.post(f"/app/admin/channels/{channel.pk}/send-test", {"to": "admin@example.org"})
    assert answer.status_code == 302
    assert len(sink.handler.received) == 1 and sink.handler.logins == [("relay-user", "relay-pass-0123")]
    mail = sink.handler.received[0]
    assert mail.rcpt_tos == ["admin@example.org"] and mail.message["From"].addresses[0].addr_spec == "help@acme.example"
    record = re.search(r"p=([A-Za-z0-9+/=]+)", page).group(1)
    assert dkim.verify(mail.data, dnsfunc=lambda name, timeout=5: f"v=DKIM1; k=rsa; p={record}".encode())
    assert "admin@example.org" in client.get(f"/app/admin/channels/{channel.pk}").content.decode()
    assert AuditEntry.objects.filter(action="channel.test_email_sent").exists()


def test_a_test_email_that_cannot_be_sent_says_so(client, admin, settings):
    settings.SMTP_RELAY_URL = ""
    client.force_login(admin.user)
    _page, channel = create(client, "email", {"name": "Support", "address": "help@acme.example"})
    client.post(f"/app/admin/channels/{channel.pk}/send-test", {"to": "admin@example.org"})
    assert "No mail relay is set" in client.get(f"/app/admin/channels/{channel.pk}").content.decode()


# ── connection tests against the fake providers ──────────────────────────────────────────────────────
@pytest.fixture
def provider():
    fake = FakeProvider().start()
    yield fake
    fake.stop()


def _connection(client, channel):
    return client.post(f"/app/admin/channels/{channel.pk}/test", HTTP_X_REQUESTED_WITH="fetch").json()


def test_connection_tests_call_each_providers_documented_endpoint(client, admin, provider):
    client.force_login(admin.user)
    token = KINDS["telegram"][0]["bot_token"]
    provider.route("GET", f"/bot{token}/getMe", 200, {"ok": True, "result": {"id": 7, "username": "acme_bot"}})
    provider.route("GET", "/106540352242922", 200, {"display_phone_number": "+1 555 0100", "verified_name": "Acme"})
    provider.route("GET", "/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX.json", 200,
                   {"friendly_name": "Acme Twilio", "status": "active"})
    provider.route("GET", "/v2/bot/info", 200, {"displayName": "Acme OA", "basicId": "@acme"})
    provider.route("GET", "/104213715622913", 200, {"name": "Acme Page"})
    expected = {"telegram": "@acme_bot", "whatsapp": "+1 555 0100 (Acme)", "sms": "Acme Twilio",
                "line": "Acme OA @acme", "messenger": "Acme Page"}
    for kind, who in expected.items():
        base = "graph_base_url" if kind in ("whatsapp", "messenger") else "api_base_url"
        _page, channel = create(client, kind, {**KINDS[kind][0], base: provider.url})
        result = _connection(client, channel)
        assert result == {"available": True, "ok": True, "message": f"Connected: {who}"}, kind
    assert provider.requests[1].headers["authorization"] == "Bearer EAAG-secret-token-wa"


def test_a_refused_connection_says_so_without_the_secret(client, admin, provider):
    client.force_login(admin.user)
    token = KINDS["telegram"][0]["bot_token"]
    provider.route("GET", f"/bot{token}/getMe", 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    _page, channel = create(client, "telegram", {**KINDS["telegram"][0], "api_base_url": provider.url})
    result = _connection(client, channel)
    assert result["ok"] is False and "refused" in result["message"] and "Unauthorized" in result["message"]
    assert token not in result["message"] and provider.url not in result["message"]
    provider.route("GET", f"/bot{token}/getMe", 502, b"Bad Gateway")  # the provider is down
    result = _connection(client, channel)
    assert result["ok"] is False and "could not be reached" in result["message"]
    # without JavaScript: the same answer on the channel's page
    client.post(f"/app/admin/channels/{channel.pk}/test")
    assert "could not be reached" in client.get(f"/app/admin/channels/{channel.pk}").content.decode()


def test_telegram_webhook_is_registered_with_the_url_and_secret_token(client, admin, provider):
    client.force_login(admin.user)
    token = KINDS["telegram"][0]["bot_token"]
    provider.route("POST", f"/bot{token}/setWebhook", 200, {"ok": True, "result": True,
                                                           "description": "Webhook was set"})
    _page, channel = create(client, "telegram", {**KINDS["telegram"][0], "api_base_url": provider.url})
    answer = client.post(f"/app/admin/channels/{channel.pk}/register-webhook", HTTP_X_REQUESTED_WITH="fetch").json()
    assert answer["ok"] is True and "Webhook was set" in answer["message"]
    sent = provider.requests[-1].json()
    assert sent == {"url": f"{PUBLIC_URL}/hooks/telegram/{channel.pk}/", "secret_token": channel.config["secret_token"]}
    provider.route("POST", f"/bot{token}/setWebhook", 400, {"ok": False, "error_code": 400,
                                                           "description": "Bad Request: bad webhook: HTTPS url must be provided for webhook"})
    answer = client.post(f"/app/admin/channels/{channel.pk}/register-webhook", HTTP_X_REQUESTED_WITH="fetch").json()
    assert answer["ok"] is False and "HTTPS url must be provided" in answer["message"] and token not in answer["message"]
    _page, api = create(client, "api", KINDS["api"][0])
    assert client.post(f"/app/admin/channels/{api.pk}/register-webhook").status_code == 404


def test_kinds_without_a_provider_call_say_it_is_not_available(client, admin):
    client.force_login(admin.user)
    _page, channel = create(client, "api", KINDS["api"][0])
    assert _connection(client, channel)["available"] is False


# ── web chat ──────────────────────────────────────────────────────────────────────────────────────────
def test_webchat_editor_saves_the_look_and_the_widget_honours_it(client, admin):
    client.force_login(admin.user)
    page, channel = create(client, "webchat", {"name": "Site chat", "identity_verification": "on"})
    secret = channel.config["secret"]
    html = page.content.decode()
    assert secret in html  # the identity-verification secret, once
    snippet = f'<script src="{PUBLIC_URL}/widget.js" data-channel="{channel.pk}" async></script>'
    assert snippet in unescape(html)
    form = {"name": "Site chat", "title": "Acme help", "color": "#ff5500", "position": "left",
            "greetings": "en: Hello from Acme\nhe: שלום", "prechat": "required", "prechat_fields": ["name"],
            "offline": "hide", "offline_message": "Back at 9", "allowed_origins": "https://shop.example",
            "identity_verification": "on", "language": ""}
    assert client.post(f"/app/admin/channels/{channel.pk}", form).status_code == 302
    channel.refresh_from_db()
    assert channel.config["secret"] == secret
    assert channel.config["prechat_fields"] == ["name"] and channel.config["offline"] == "hide"
    later = client.get(f"/app/admin/channels/{channel.pk}").content.decode()
    assert secret not in later
    config = client.get(f"/widget/{channel.pk}/config?lang=en").json()
    assert config["color"] == "#ff5500" and config["offline"] == "hide" and config["prechat_fields"] == ["name"]
    assert config["greeting"] == "Hello from Acme"
    frame = client.get(f"/widget/{channel.pk}/")
    assert "frame-ancestors https://shop.example" in frame["Content-Security-Policy"]
    assert "Back at 9" in frame.content.decode()


def test_preview_renders_unsaved_changes_and_opens_no_session(client, admin):
    from threadline.channels.webchat.models import Visitor

    client.force_login(admin.user)
    _page, channel = create(client, "webchat", {"name": "Site chat"})
    preview = client.get(f"/app/admin/channels/{channel.pk}/preview",
                         {"title": "Draft title", "color": "#00aa00", "greetings": "en: Draft hello", "online": "0"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Draft title" in html and "#00aa00" in html and "Draft hello" in html and '"preview": true' in html
    assert "frame-ancestors 'self'" in preview["Content-Security-Policy"]
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    half_typed = client.get(f"/app/admin/channels/{channel.pk}/preview", {"color": "#00a"})
    assert half_typed.status_code == 200 and "#1d4ed8" in half_typed.content.decode()
    assert Visitor.objects.count() == 0


def test_rotating_the_identity_secret_shows_the_new_one_once(client, admin):
    client.force_login(admin.user)
    _page, channel = create(client, "webchat", {"name": "Site chat"})
    old = channel.config["secret"]
    page = client.post(f"/app/admin/channels/{channel.pk}/rotate/secret").content.decode()
    channel.refresh_from_db()
    assert channel.config["secret"] != old and channel.config["secret"] in page and old not in page
    assert channel.config["secret"] not in client.get(f"/app/admin/channels/{channel.pk}").content.decode()
    assert AuditEntry.objects.filter(action="channel.secret_rotated", target_id=str(channel.pk)).exists()
    assert client.post(f"/app/admin/channels/{channel.pk}/rotate/title").status_code == 404


# ── the list, disabling ───────────────────────────────────────────────────────────────────────────────
def _api_channel(admin, name="API") -> Channel:
    from threadline.channels.actions import do_create_channel

    with transaction.atomic():
        return do_create_channel(admin, "api", name, {})


def test_list_shows_status_last_event_open_conversations_and_attention(client, admin):
    channel = _api_channel(admin)
    customer_writes(channel, "Where is my order?", kind="external", address="cust-1")
    customer_writes(channel, "And another", kind="external", address="cust-2")
    InboundEvent.objects.create(workspace_id=admin.workspace_id, channel=channel, idempotency_key="x", body=b"{}",
                                state=InboundEvent.State.FAILED, error="broken")
    client.force_login(admin.user)
    html = client.get("/app/admin/channels").content.decode()
    row = html[html.index(f'/app/admin/channels/{channel.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "Enabled" in row and ">2<" in row and 'class="ch-badge warn"' in row


def test_disabling_says_what_happens_to_open_conversations_and_is_audited(client, admin):
    from threadline.channels.actions import note_event_received
    from threadline.contacts.models import ContactIdentity

    channel = _api_channel(admin)
    _api_channel(admin, "Other API")
    reached = customer_writes(channel, "Hello", kind="external", address="cust-1")
    customer_writes(channel, "Hi", kind="email", address="dana@example.com")
    assert ContactIdentity.objects.filter(contact=reached.conversation.contact, kind="external").exists()
    client.force_login(admin.user)
    confirm = client.get(f"/app/admin/channels/{channel.pk}/disable").content.decode()
    assert "2 open conversations were last heard from on it" in confirm
    # the other API channel reaches cust-1 (an external identity), not Dana (email only)
    assert "1 of them can be answered on another channel" in confirm and "1 cannot be reached" in confirm
    assert client.post(f"/app/admin/channels/{channel.pk}/disable").status_code == 302
    channel.refresh_from_db()
    assert channel.is_active is False
    entry = AuditEntry.objects.get(action="channel.disabled", target_id=str(channel.pk))
    assert entry.details["open_conversations"] == 2
    # what the page said: nothing new is accepted, the conversations stay open
    assert client.post(f"/hooks/api/{channel.pk}/", b"{}", content_type="application/json").status_code == 404
    reached.conversation.refresh_from_db()
    assert reached.conversation.status in ("new", "open")
    note_event_received(channel)
    assert client.post(f"/app/admin/channels/{channel.pk}/enable").status_code == 302
    channel.refresh_from_db()
    assert channel.is_active and AuditEntry.objects.filter(action="channel.enabled").exists()


def test_last_event_is_written_at_most_once_a_minute(admin):
    from threadline.channels.actions import note_event_received

    channel = _api_channel(admin)
    note_event_received(channel)
    first = Channel.objects.get(pk=channel.pk).last_event_at
    note_event_received(Channel.objects.get(pk=channel.pk))
    assert Channel.objects.get(pk=channel.pk).last_event_at == first


# ── permissions and workspaces ────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("role", [Role.AGENT, Role.LIGHT_AGENT])
def test_agents_are_refused_every_channel_screen(client, admin, role):
    channel = _api_channel(admin)
    agent = factories.make_agent(admin, f"{role}@example.com", role=role)
    client.force_login(agent.user)
    for url in ("/app/admin/channels", "/app/admin/channels/new", "/app/admin/channels/new/api",
                f"/app/admin/channels/{channel.pk}", f"/app/admin/channels/{channel.pk}/disable",
                f"/app/admin/channels/{channel.pk}/preview", f"/app/admin/channels/{channel.pk}/status"):
        assert client.get(url).status_code == 403, url
    for url in ("/app/admin/channels/new/api", f"/app/admin/channels/{channel.pk}",
                f"/app/admin/channels/{channel.pk}/disable", f"/app/admin/channels/{channel.pk}/test",
                f"/app/admin/channels/{channel.pk}/rotate/secret", f"/app/admin/channels/{channel.pk}/enable",
                f"/app/admin/channels/{channel.pk}/register-webhook", f"/app/admin/channels/{channel.pk}/send-test"):
        assert client.post(url, {"name": "Mine"}).status_code == 403, url
    channel.refresh_from_db()
    assert channel.is_active and channel.name == "API" and Channel.objects.count() == 1


def test_another_workspaces_admin_gets_404_and_changes_nothing(client, admin):
    channel = _api_channel(admin)
    secret = channel.config["secret"]
    other = factories.make_workspace(name="Other Co")
    client.force_login(other.user)
    assert "API" not in client.get("/app/admin/channels").content.decode().split("<main", 1)[1]
    for url in (f"/app/admin/channels/{channel.pk}", f"/app/admin/channels/{channel.pk}/disable",
                f"/app/admin/channels/{channel.pk}/status", f"/app/admin/channels/{channel.pk}/preview"):
        assert client.get(url).status_code == 404, url
    for url in (f"/app/admin/channels/{channel.pk}", f"/app/admin/channels/{channel.pk}/disable",
                f"/app/admin/channels/{channel.pk}/test", f"/app/admin/channels/{channel.pk}/rotate/secret",
                f"/app/admin/channels/{channel.pk}/send-test", f"/app/admin/channels/{channel.pk}/signing-key",
                f"/app/admin/channels/{channel.pk}/enable", f"/app/admin/channels/{channel.pk}/register-webhook"):
        assert client.post(url, {"name": "Taken"}).status_code == 404, url
    channel.refresh_from_db()
    assert channel.is_active and channel.name == "API" and channel.config["secret"] == secret
