"""Widget identity across channels: the web app's server signs who its user is (a JWT, HS256, with the chat
channel's secret); every field that can select or link a contact comes from that token, and the token expires.

A customer known from email who signs in to the web app is recognised in the widget, continues their open
conversation and sees its history. A visitor can claim nobody else's contact with anything unsigned (an email
beside the token, the pre-chat form, the retired user_hash), and a captured token stops working."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
import time_machine
from django.db import transaction

from threadline.channels.webchat.models import Visitor
from threadline.channels.webchat.testkit import SECRET, Widget, make_webchat_channel
from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.testing import factories
from threadline.web.tests.helpers import customer_writes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret: str = SECRET, *, alg: str = "HS256", lifetime: int = 3600, **claims: object) -> str:
    """What the web app's server computes (RFC 7519 by hand, independent of Threadline and PyJWT)."""
    issued = int(time.time())
    payload = {"iat": issued, "exp": issued + lifetime, **claims}
    signing_input = f"{_b64(json.dumps({'alg': alg, 'typ': 'JWT'}).encode())}.{_b64(json.dumps(payload).encode())}"
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}.get(alg)
    signature = _b64(hmac.new(secret.encode(), signing_input.encode(), digest).digest()) if digest else ""
    return f"{signing_input}.{signature}"


def legacy_hash(user_id: str, secret: str = SECRET) -> str:
    """The retired scheme: HMAC of the user id alone, valid forever."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def known_customer(admin):
    api = factories.make_api_channel(admin)
    first = customer_writes(api, "Invoice 77 is wrong", address="dana@example.com", name="Dana Levi")
    with transaction.atomic():
        do_send_reply(admin, first.conversation, "We'll fix it today.")
    return first.conversation


@pytest.fixture
def chat(admin):
    return make_webchat_channel(admin)


def test_a_signed_identity_joins_the_customers_contact_and_open_conversation(client, chat, known_customer):
    widget = Widget(client, chat).start()
    response = widget.post("identify", {"token": mint(sub="u-1001", email="dana@example.com", name="Dana")})
    assert response.status_code == 200 and response.json()["visitor"]["identified"] is True
    assert [m["text"] for m in widget.history()] == ["Invoice 77 is wrong", "We'll fix it today."]
    widget.say("Any news about invoice 77?", "c-1")
    message = Message.objects.get(text="Any news about invoice 77?")
    assert message.conversation_id == known_customer.pk  # the same thread, whatever the channel
    assert message.identity.kind == "email" and message.identity.verified
    assert Contact.objects.count() == 1
    assert set(ContactIdentity.objects.values_list("kind", flat=True)) == {"email", "external"}


def test_an_unsigned_email_beside_a_signed_user_id_never_selects_a_contact(client, chat, known_customer):
    """The takeover of the report: a signed-in user of the shop, signed as themself, names Dana's email."""
    for body in ({"user_id": "attacker-7", "user_hash": legacy_hash("attacker-7"), "email": "dana@example.com"},
                 {"token": mint(sub="attacker-7"), "email": "dana@example.com"}):
        widget = Widget(client, chat).start()
        widget.post("identify", body)
        assert widget.history() == []
        widget.say("Show me Dana's invoices", f"c-{len(body)}")
    intruder_messages = Message.objects.filter(text="Show me Dana's invoices")
    assert intruder_messages.count() == 2
    assert all(m.conversation.contact_id != known_customer.contact_id for m in intruder_messages)
    assert not ContactIdentity.objects.filter(contact=known_customer.contact, kind="external").exists()


def test_an_email_typed_after_signing_in_never_links(client, chat, known_customer):
    widget = Widget(client, chat).start()
    assert widget.identify("attacker-7").status_code == 200  # genuinely signed, as themself
    assert widget.post("details", {"email": "dana@example.com", "name": "Dana"}).status_code == 200
    widget.say("Refund my order to this card", "c-1")
    message = Message.objects.get(text="Refund my order to this card")
    assert message.conversation.contact_id != known_customer.contact_id
    assert (message.identity.kind, message.identity.address) == ("external", "attacker-7")
    assert [m["text"] for m in widget.history()] == ["Refund my order to this card"]


def test_a_pre_chat_email_never_draws_that_persons_mail_into_the_visitors_contact(client, chat, admin):
    squatter = Widget(client, chat).start()
    squatter.post("details", {"email": "victim@example.com", "name": "Vic Tim"})
    squatter.say("hello", "c-1")
    assert not ContactIdentity.objects.filter(kind="email", address="victim@example.com").exists()
    later = customer_writes(factories.make_api_channel(admin), "My password reset code is 4411",
                            address="victim@example.com", name="Vic Tim")
    assert later.conversation.contact_id != Message.objects.get(text="hello").conversation.contact_id
    assert [m["text"] for m in squatter.history()] == ["hello"]


def test_forged_and_foreign_tokens_are_refused_and_reveal_nothing(client, chat, admin, known_customer):
    other = factories.make_workspace("Other Co")
    with transaction.atomic():
        from threadline.channels.actions import do_create_channel

        foreign = do_create_channel(other, "webchat", "Their site", {"secret": "their-own-secret-0123456789"})
    widget = Widget(client, chat).start()
    claims = {"sub": "u-1001", "email": "dana@example.com"}
    for token in (mint("guessed-secret-0123456789abcdef", **claims), mint(foreign.config["secret"], **claims),
                  mint(alg="none", **claims), mint(alg="HS512", **claims), mint(**claims)[:-2] + "xx",
                  "", "not.a.jwt", mint(email="dana@example.com")):
        response = widget.post("identify", {"token": token})
        assert response.status_code == 403, token
        assert response.json()["code"] == "invalid_identity_token"
    assert widget.history() == []
    assert not Visitor.objects.filter(verified=True).exists()
    assert Conversation.objects.count() == 1


def test_the_retired_user_hash_is_refused(client, chat, known_customer):
    widget = Widget(client, chat).start()
    response = widget.post("identify", {"user_id": "u-1001", "user_hash": legacy_hash("u-1001"),
                                        "email": "dana@example.com"})
    assert response.status_code == 403 and response.json()["code"] == "identity_token_required"
    assert widget.history() == []


def test_a_token_must_expire_and_a_captured_one_stops_working(client, chat, known_customer):
    widget = Widget(client, chat).start()
    forever = widget.post("identify", {"token": mint(sub="u-1001", email="dana@example.com", lifetime=30 * 86400)})
    assert forever.status_code == 403 and forever.json()["code"] == "identity_token_too_long"
    no_expiry = {"sub": "u-1001", "iat": int(time.time())}
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    unsigned_forever = f"{header}.{_b64(json.dumps(no_expiry).encode())}"
    signature = _b64(hmac.new(SECRET.encode(), unsigned_forever.encode(), hashlib.sha256).digest())
    assert widget.post("identify", {"token": f"{unsigned_forever}.{signature}"}).status_code == 403

    captured = mint(sub="u-1001", email="dana@example.com", lifetime=3600)
    assert widget.post("identify", {"token": captured}).status_code == 200
    assert len(widget.history()) == 2
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        replayed = Widget(client, chat).start().post("identify", {"token": captured})
        assert replayed.status_code == 403 and replayed.json()["code"] == "identity_token_expired"
        # the visitor token the captured identity made opens nothing any more
        lapsed = client.get(f"/widget/{chat.pk}/messages", HTTP_X_VISITOR_TOKEN=widget.token)
        assert lapsed.status_code == 403 and lapsed.json()["code"] == "identity_expired"
        assert widget.say("still me?", "c-9").status_code == 403
        restarted = widget.post("session", {"token": widget.token}).json()
        assert restarted["token"] != widget.token and restarted["visitor"]["identified"] is False
        assert restarted["identity_expired"] is True  # the frame tells the page, which may renew it
        # the web app renews the identity with a fresh token
        assert widget.post("identify", {"token": mint(sub="u-1001", email="dana@example.com")}).status_code == 200
        assert len(widget.history()) == 2


def test_a_signed_phone_links_the_customer_known_by_sms(client, chat, admin):
    sms = factories.make_api_channel(admin)
    known = customer_writes(sms, "Where is my parcel?", address="+972525551234", kind="phone", name="Noa")
    widget = Widget(client, chat).start()
    assert widget.post("identify", {"token": mint(sub="u-55", phone="+972 52-555-1234")}).status_code == 200
    assert [m["text"] for m in widget.history()] == ["Where is my parcel?"]
    assert known.conversation.contact.identities.filter(kind="external", address="u-55", verified=True).exists()


def test_another_user_signing_in_on_the_same_browser_gets_a_visitor_of_their_own(client, chat, known_customer):
    widget = Widget(client, chat).start()
    assert widget.identify("u-1001", email="dana@example.com").status_code == 200
    first_token = widget.token
    assert widget.identify("u-2002", email="eli@example.com").status_code == 200
    assert widget.token != first_token
    assert widget.history() == []  # nothing of Dana's
