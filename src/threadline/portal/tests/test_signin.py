"""Passwordless sign-in: one-time links by email (expired, reused, tampered), codes by SMS to verified numbers
(wrong codes throttled), the same answer whatever the address, and sessions apart from agents' sessions."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest
from django.db import transaction

from threadline.channels.base import InboundMessage
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.sms.tests.helpers import ACCOUNT_SID, make_twilio_channel
from threadline.contacts.models import ContactIdentity
from threadline.conversations.actions import receive_inbound_message
from threadline.portal import signin
from threadline.portal.models import PortalSession, SignInLink
from threadline.portal.tests.helpers import api_channel, customer_writes, signed_in
from threadline.testing.fixtures import fresh_cache
from threadline.testing.mailbox import link_in, wait_for_mail


def portal(admin) -> str:
    return f"/portal/{admin.workspace.slug}/"


def ask_link(client, admin, email):
    return client.post(portal(admin) + "sign-in/email", {"email": email})


def test_a_link_signs_in_once_and_shows_the_customers_requests(client, admin, run_jobs, system_mail):
    conversation = customer_writes(api_channel(admin), "dana@example.com", "Where is my order?")
    answer = ask_link(client, admin, "Dana@Example.com")
    assert answer.status_code == 200
    run_jobs()
    path = link_in(wait_for_mail(system_mail)[0], f"portal/{admin.workspace.slug}/link")
    shown = client.get(path + "/")
    assert shown.status_code == 200 and SignInLink.objects.get().used_at is None  # a GET spends nothing
    signed = client.post(path + "/")
    assert signed.status_code == 302 and signed["Location"] == portal(admin)
    cookie = signed.cookies[signin.COOKIE]
    assert cookie["httponly"] and cookie["path"] == portal(admin)
    home = client.get(portal(admin))
    assert "Where is my order?" in home.content.decode()
    assert f"requests/{conversation.pk}/" in home.content.decode()
    identity = ContactIdentity.objects.get(address="dana@example.com")
    assert identity.verified  # the customer proved the address
    again = client.post(path + "/")
    assert again.status_code == 400
    assert PortalSession.objects.count() == 1


def test_an_expired_or_tampered_link_signs_nobody_in(client, admin, run_jobs, system_mail):
    customer_writes(api_channel(admin), "dana@example.com", "Hello")
    ask_link(client, admin, "dana@example.com")
    run_jobs()
    path = link_in(wait_for_mail(system_mail)[0], f"portal/{admin.workspace.slug}/link")
    tampered = path[:-1] + ("A" if path[-1] != "A" else "B")
    assert client.post(tampered + "/").status_code == 400
    assert client.get(tampered + "/").status_code == 400
    SignInLink.objects.update(expires_at="2020-01-01T00:00:00Z")
    assert client.post(path + "/").status_code == 400
    assert PortalSession.objects.count() == 0
    assert signin.COOKIE not in client.cookies or not client.cookies[signin.COOKIE].value


def test_a_link_of_one_workspace_is_nothing_in_another(client, admin, run_jobs, system_mail):
    from threadline.testing.factories import make_workspace

    other = make_workspace("Globex")
    customer_writes(api_channel(admin), "dana@example.com", "Hello")
    ask_link(client, admin, "dana@example.com")
    run_jobs()
    path = link_in(wait_for_mail(system_mail)[0], f"portal/{admin.workspace.slug}/link")
    token = path.rsplit("/", 1)[1]
    assert client.post(f"/portal/{other.workspace.slug}/link/{token}/").status_code == 400


def test_the_answer_is_the_same_whether_the_address_is_known_or_not(client, admin, run_jobs, system_mail):
    customer_writes(api_channel(admin), "dana@example.com", "Hello")
    known = ask_link(client, admin, "dana@example.com")
    unknown = ask_link(client, admin, "nobody@example.com")
    strip = lambda r: re.sub(r"<bdi dir=\"ltr\">[^<]*</bdi>|csrfmiddlewaretoken\" value=\"[^\"]*", "", r.content.decode())  # noqa: E731
    assert (known.status_code, strip(known)) == (unknown.status_code, strip(unknown))
    run_jobs()
    mails = wait_for_mail(system_mail)
    assert [m.rcpt_tos for m in mails] == [["dana@example.com"]]


def test_link_requests_are_throttled_per_address_and_client(client, admin):
    answers = [ask_link(client, admin, "dana@example.com").status_code for _ in range(7)]
    assert answers[:4] == [200] * 4
    assert answers[-1] == 429
    assert ask_link(client, admin, "other@example.com").status_code == 200  # another address: allowed


def test_a_bad_address_says_so(client, admin):
    answer = ask_link(client, admin, "not an address")
    assert answer.status_code == 400
    assert "not a valid email address" in answer.content.decode()


# ── codes ────────────────────────────────────────────────────────────────────────────────────────────
@pytest.fixture
def twilio():
    fake = FakeProvider().start()
    yield fake
    fake.stop()


def sms_customer(admin, twilio, *, verified: bool = True):
    twilio.route("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", 201,
                 b'{"sid": "SM' + b"a" * 32 + b'", "status": "queued"}')
    channel = make_twilio_channel(admin, api_base_url=twilio.url)
    with transaction.atomic():
        message = receive_inbound_message(channel, InboundMessage(
            provider_message_id="SM1", sender_kind="phone", sender_address="+14155552671", sender_verified=verified,
            text="Hi, it's Noa"))
    return message.conversation


def sent_code(twilio) -> str:
    body = parse_qs(twilio.calls("POST")[-1].body.decode())["Body"][0]
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_a_code_by_sms_signs_in_a_verified_number(client, admin, run_jobs, twilio):
    conversation = sms_customer(admin, twilio)
    answer = client.post(portal(admin) + "sign-in/phone", {"phone": "+1 415 555 2671"})
    assert answer.status_code == 200
    run_jobs()
    code = sent_code(twilio)
    assert parse_qs(twilio.calls("POST")[-1].body.decode())["To"] == ["+14155552671"]
    assert conversation.messages.count() == 1  # the code is not written into the conversation
    signed = client.post(portal(admin) + "sign-in/code", {"phone": "+14155552671", "code": code})
    assert signed.status_code == 302
    assert "Hi, it" in client.get(portal(admin)).content.decode()
    assert client.post(portal(admin) + "sign-in/code", {"phone": "+14155552671", "code": code}).status_code == 403


def test_no_code_goes_to_an_unverified_or_unknown_number(client, admin, run_jobs, twilio):
    sms_customer(admin, twilio, verified=False)
    known = client.post(portal(admin) + "sign-in/phone", {"phone": "+14155552671"})
    unknown = client.post(portal(admin) + "sign-in/phone", {"phone": "+14155550000"})
    assert known.status_code == unknown.status_code == 200
    run_jobs()
    assert twilio.calls("POST") == []


def test_wrong_codes_are_counted_and_then_throttled(client, admin, run_jobs, twilio, settings):
    sms_customer(admin, twilio)
    client.post(portal(admin) + "sign-in/phone", {"phone": "+14155552671"})
    run_jobs()
    code = sent_code(twilio)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    answers = [client.post(portal(admin) + "sign-in/code", {"phone": "+14155552671", "code": wrong}).status_code
               for _ in range(6)]
    assert answers[:4] == [403] * 4 and answers[-1] == 429
    # the right code no longer works: spent after 5 wrong tries, and the client is locked out meanwhile
    assert client.post(portal(admin) + "sign-in/code", {"phone": "+14155552671", "code": code}).status_code == 429
    fresh_cache(settings)
    assert client.post(portal(admin) + "sign-in/code", {"phone": "+14155552671", "code": code}).status_code == 403
    assert PortalSession.objects.count() == 0


# ── sessions ─────────────────────────────────────────────────────────────────────────────────────────
def test_sessions_of_agents_and_customers_open_nothing_of_each_other(client, admin):
    conversation = customer_writes(api_channel(admin), "dana@example.com", "Hello")
    client.force_login(admin.user)
    assert "sign-in/email" in client.get(portal(admin)).content.decode()  # an agent is no customer
    assert client.get(portal(admin) + f"requests/{conversation.pk}/").status_code == 302
    customer = signed_in(conversation.contact)
    app = customer.get("/app/")
    assert app.status_code == 302 and "/login" in app["Location"]
    assert customer.get(f"/api/v1/conversations/{conversation.pk}").status_code == 401


def test_signing_out_ends_the_session(admin):
    conversation = customer_writes(api_channel(admin), "dana@example.com", "Hello")
    customer = signed_in(conversation.contact)
    raw = customer.cookies[signin.COOKIE].value
    assert customer.get(portal(admin) + f"requests/{conversation.pk}/").status_code == 200
    assert customer.post(portal(admin) + "sign-out").status_code == 302
    customer.cookies[signin.COOKIE] = raw  # the old cookie, kept by someone
    assert customer.get(portal(admin) + f"requests/{conversation.pk}/").status_code == 302


def test_spent_and_expired_sign_ins_are_pruned(admin):
    import datetime as dt

    from threadline.core.time import now
    from threadline.portal import links
    from threadline.portal.tasks import prune_sign_ins_task

    conversation = customer_writes(api_channel(admin), "dana@example.com", "Hello")
    with transaction.atomic():
        fresh = links.do_issue_link(admin.workspace, "email", email="dana@example.com", contact=conversation.contact)
        links.do_issue_link(admin.workspace, "email", email="dana@example.com", contact=conversation.contact,
                            lifetime=dt.timedelta(days=-2))
        signin.do_start_session(admin.workspace, conversation.contact)
        ended = signin.do_start_session(admin.workspace, conversation.contact)
    PortalSession.objects.filter(digest=signin.crypto.token_digest(ended)).update(ended_at=now() - dt.timedelta(days=2))
    assert prune_sign_ins_task.func() == 2
    assert list(SignInLink.objects.values_list("digest", flat=True)) == [signin.crypto.token_digest(fresh)]
    assert PortalSession.objects.count() == 1


def test_a_code_by_whatsapp_respects_the_24_hour_window(client, admin, run_jobs, twilio, settings):
    import datetime as dt

    from threadline.channels.whatsapp.tests.helpers import PHONE_NUMBER_ID, make_whatsapp_channel
    from threadline.conversations.models import Message

    twilio.route("POST", f"/{PHONE_NUMBER_ID}/messages", 200, {"messages": [{"id": "wamid.code"}]})
    channel = make_whatsapp_channel(admin, graph_base_url=twilio.url)
    with transaction.atomic():
        receive_inbound_message(channel, InboundMessage(
            provider_message_id="wamid.in", sender_kind="whatsapp", sender_address="972525551234",
            sender_verified=True, text="שלום"))
    client.post(portal(admin) + "sign-in/phone", {"phone": "+972 52-555-1234"})
    run_jobs()
    sent = twilio.calls("POST", f"/{PHONE_NUMBER_ID}/messages")
    assert len(sent) == 1 and sent[0].json()["to"] in ("972525551234", "+972525551234")
    code = re.search(r"\b(\d{6})\b", sent[0].json()["text"]["body"]).group(1)
    assert client.post(portal(admin) + "sign-in/code", {"phone": "+972525551234", "code": code}).status_code == 302
    # a day later the window is closed: WhatsApp refuses free text, so no code is sent
    Message.objects.update(created_at=signin.now() - dt.timedelta(days=2))
    fresh_cache(settings)
    client.post(portal(admin) + "sign-in/phone", {"phone": "+972525551234"})
    run_jobs()
    assert len(twilio.calls("POST", f"/{PHONE_NUMBER_ID}/messages")) == 1
