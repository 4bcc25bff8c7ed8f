"""The inbound SMTP listener, driven by smtplib on loopback: accept, route, refuse, limit, defer, store."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
from django.core.management import call_command

from threadline.channels.email import edge
from threadline.channels.email.testkit import FIXTURES, make_email_channel, running_listener
from threadline.channels.models import InboundEvent
from threadline.conversations.models import Conversation, Message

pytestmark = pytest.mark.slow


@pytest.fixture
def smtp_listener(transactional_db):
    yield from running_listener()


def mail(sender="dana@example.com", to="support@acme.test", subject="Order 1001", body="Where is my order?",
         message_id="<m1@example.com>", **headers):
    message = EmailMessage()
    message["From"] = f"Dana Levi <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def send(port, message, *, sender=None, to=None):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.send_message(message, from_addr=sender, to_addrs=to)


def test_mail_is_stored_before_250_and_becomes_a_conversation(smtp_listener, admin, run_jobs):
    make_email_channel(admin)
    send(smtp_listener, mail())
    event = InboundEvent.objects.get()  # committed before the client got its 250
    assert event.headers["mail-from"] == "dana@example.com"
    assert event.headers["rcpt-to"] == "support@acme.test"
    run_jobs()
    message = Message.objects.get()
    assert message.text == "Where is my order?"
    assert message.provider_message_id == "<m1@example.com>"
    assert message.conversation.contact.name == "Dana Levi"
    assert message.conversation.subject == "Order 1001"


def test_plus_addresses_aliases_and_catch_all_reach_their_channel(smtp_listener, admin, run_jobs):
    support = make_email_channel(admin, aliases=["help@acme.test"])
    sales = make_email_channel(admin, "sales@shop.test", catch_all_domains=["shop.test"])
    call_command("email", "verify-domain", "shop.test", "--force")  # a catch-all routes once its domain is proven
    send(smtp_listener, mail(to="support+orders@acme.test", message_id="<a@x>"))
    send(smtp_listener, mail(to="help@acme.test", message_id="<b@x>"))
    send(smtp_listener, mail(to="anyone@shop.test", message_id="<c@x>"))
    assert sorted(InboundEvent.objects.filter(channel=support).values_list("idempotency_key", flat=True)) == [
        "<a@x>", "<b@x>"]
    assert list(InboundEvent.objects.filter(channel=sales).values_list("idempotency_key", flat=True)) == ["<c@x>"]


def test_relaying_is_refused(smtp_listener, admin):
    make_email_channel(admin)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp_listener, mail(to="victim@elsewhere.test"))
    assert refused.value.recipients["victim@elsewhere.test"][0] == 550
    assert InboundEvent.objects.count() == 0


def test_a_mixed_envelope_keeps_only_our_recipients(smtp_listener, admin):
    make_email_channel(admin)
    refused = send(smtp_listener, mail(), to=["support@acme.test", "victim@elsewhere.test"])
    assert refused["victim@elsewhere.test"][0] == 550
    assert InboundEvent.objects.get().headers["rcpt-to"] == "support@acme.test"


def test_size_limit_gives_552(smtp_listener, admin):
    make_email_channel(admin, max_message_bytes=2048)
    with pytest.raises(smtplib.SMTPDataError) as error:
        send(smtp_listener, mail(body="x" * 5000))
    assert error.value.smtp_code == 552
    assert InboundEvent.objects.count() == 0


def test_announced_size_over_the_server_limit_is_refused_at_mail_from(smtp_listener, admin, settings):
    make_email_channel(admin)
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("size")
        code, _text = client.mail("dana@example.com", options=[f"SIZE={10**10}"])
    assert code == 552


def test_storage_failure_answers_451_and_the_retry_is_stored_once(smtp_listener, admin, monkeypatch):
    make_email_channel(admin)
    real_store = edge.store

    def broken(*args, **kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(edge, "store", broken)
    with pytest.raises(smtplib.SMTPDataError) as error:
        send(smtp_listener, mail())
    assert error.value.smtp_code == 451
    assert InboundEvent.objects.count() == 0
    monkeypatch.setattr(edge, "store", real_store)
    send(smtp_listener, mail())
    send(smtp_listener, mail())  # the sender's retry after our 250 was lost: a duplicate, acknowledged
    assert InboundEvent.objects.count() == 1


def test_a_flooding_sender_is_deferred(smtp_listener, admin):
    make_email_channel(admin, sender_rate_limit_per_hour=2)
    for n in range(4):
        send(smtp_listener, mail(message_id=f"<loop{n}@x>"))
    with pytest.raises(smtplib.SMTPRecipientsRefused) as deferred:
        send(smtp_listener, mail(message_id="<loop9@x>"))
    assert deferred.value.recipients["support@acme.test"][0] == 450
    assert InboundEvent.objects.count() == 4


def test_a_flooding_sender_is_deferred_after_their_mail_was_processed(smtp_listener, admin, run_jobs):
    make_email_channel(admin, sender_rate_limit_per_hour=2)
    send(smtp_listener, mail(sender="other@example.com", message_id="<other0@x>"))
    for n in range(3):
        send(smtp_listener, mail(message_id=f"<loop{n}@x>"))
    run_jobs()  # processed: counted from the sender's messages of the last hour, not the stored backlog
    assert InboundEvent.objects.filter(state="processed").count() == 4
    assert Message.objects.filter(metadata__email__loop_suspected=True).count() == 1  # their 3rd: over 2 an hour
    send(smtp_listener, mail(message_id="<loop3@x>"))  # 3 processed + 1 stored: 4, twice the limit
    with pytest.raises(smtplib.SMTPRecipientsRefused) as deferred:
        send(smtp_listener, mail(message_id="<loop9@x>"))
    assert deferred.value.recipients["support@acme.test"][0] == 450
    send(smtp_listener, mail(sender="other@example.com", message_id="<other1@x>"))  # others still get in
    assert InboundEvent.objects.count() == 6


def test_starttls_is_offered_when_a_certificate_is_configured(transactional_db, admin, run_jobs, tmp_path):
    import ssl

    from threadline.channels.email import smtp_server
    from threadline.channels.email.testkit import free_port, self_signed_cert

    cert, key = self_signed_cert(tmp_path)
    port = free_port()
    listener = smtp_server.start(port, tls_cert=cert, tls_key=key)
    try:
        make_email_channel(admin)
        context = ssl.create_default_context(cafile=cert)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            client.starttls(context=context)
            client.send_message(mail())
    finally:
        smtp_server.stop(listener)
    run_jobs()
    assert Conversation.objects.count() == 1


def test_the_webhook_edge_refuses_email_even_with_forged_transport_headers(client, admin):
    channel = make_email_channel(admin)
    response = client.post(f"/hooks/email/{channel.pk}/", mail().as_bytes(), content_type="message/rfc822",
                           HTTP_X_THREADLINE_TRANSPORT="smtp")
    assert response.status_code == 401
    assert InboundEvent.objects.count() == 0


SPECIAL_USE = ["dana.levi@contoso.local", "dana.levi@qa.test", "dana.levi@corp.internal", "dana.levi@nas.home.arpa",
               "dana.levi@localhost", "dana.levi@intranet", "dana.levi@example.invalid",
               "dana.levi@duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion"]


@pytest.mark.parametrize("address", SPECIAL_USE)
def test_a_sender_on_a_special_use_or_unresolvable_domain_keeps_the_real_address(smtp_listener, admin, run_jobs,
                                                                                  address):
    """Issue 9 item 12: never an invented unknown-sender+…@example.com for a sender we cannot resolve."""
    make_email_channel(admin)
    raw = (FIXTURES / "exchange-dot-local-sender.eml").read_bytes().replace(b"dana.levi@contoso.local",
                                                                            address.encode())
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=10) as client:
        client.sendmail(address, ["support@acme.test"], raw)
    run_jobs()
    message = Message.objects.select_related("identity", "conversation__contact").get()
    assert message.identity.address == address
    assert message.conversation.contact.name == "Dana Levi"
    assert message.metadata["email"]["from"] == ["Dana Levi", address]


def test_mail_from_an_internationalised_address_keeps_the_address_and_the_name(smtp_listener, admin, run_jobs):
    """Issue 9 item 8: raw UTF-8 From/Cc (RFC 6532) over SMTPUTF8; the sender was stored with the envelope
    address and no name."""
    make_email_channel(admin)
    raw = (FIXTURES / "eai-utf8-addresses.eml").read_bytes()
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("smtputf8")
        client.sendmail("jiří@příklad.cz", ["support@acme.test"], raw, mail_options=["SMTPUTF8"])
    run_jobs()
    message = Message.objects.select_related("identity", "conversation__contact").get()
    assert (message.identity.address, message.identity.display_name) == ("jiří@příklad.cz", "Jiří Novák")
    assert message.conversation.contact.name == "Jiří Novák"
    assert message.metadata["email"]["cc"] == [["Пётр Иванов", "пётр@пример.рф"], ["Petra", "petra@příklad.cz"]]
    assert message.conversation.subject == "Dobrý den, prosím o fakturu k objednávce 1001. Jiří"


def test_lines_longer_than_1000_bytes_are_accepted_byte_exact(smtp_listener, admin, run_jobs):
    """Issue 9 item 10: Outlook's 8-bit parts carry whole paragraphs (and its HTML) on one line; they got
    `500 Line too long`."""
    make_email_channel(admin)
    raw = (FIXTURES / "outlook-long-lines.eml").read_bytes()
    assert max(len(line) for line in raw.split(b"\r\n")) > 8000
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=10) as client:
        client.sendmail("noa.cohen@example.co.il", ["support@acme.test"], raw)
    event = InboundEvent.objects.get()
    assert bytes(event.body) == raw
    run_jobs()
    message = Message.objects.get()
    assert message.text.startswith("Hello,\n\nWe ordered 40 units of the X200")
    assert message.text.count("courier’s report") == 12
    assert "courier’s report" in message.html


def long_lined(size: int, line: int = 5000) -> bytes:
    head = b"From: dana@example.com\r\nTo: support@acme.test\r\nSubject: big\r\nMessage-ID: <big@x>\r\n\r\n"
    body = b"".join(b"y" * (line - 2) + b"\r\n" for _ in range(size // line + 1))
    return head + body


def test_long_lines_still_count_against_the_listener_size_limit(transactional_db, admin, settings):
    from threadline.channels.email import smtp_server
    from threadline.channels.email.testkit import free_port

    settings.THREADLINE = {**settings.THREADLINE, "EMAIL_MAX_BYTES": 64 * 1024}
    port = free_port()
    listener = smtp_server.start(port)
    try:
        make_email_channel(admin)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("dana@example.com", ["support@acme.test"], long_lined(60 * 1024))  # under: stored
            # A client that does not announce SIZE: the bytes are counted as DATA arrives.
            for too_big in (long_lined(100 * 1024), long_lined(70 * 1024, line=70 * 1024)):  # many lines, one line
                assert client.mail("dana@example.com")[0] == 250
                assert client.rcpt("support@acme.test")[0] == 250
                assert client.data(too_big.replace(b"<big@", b"<big2@"))[0] == 552
    finally:
        smtp_server.stop(listener)
    assert InboundEvent.objects.count() == 1
