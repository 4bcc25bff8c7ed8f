"""Email end to end: a customer's mail in, an agent's reply out through a real SMTP relay on loopback,
the customer's reply threaded back by the signals Threadline put in it, and the reason stored."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.db import transaction

from threadline.channels.email import edge
from threadline.channels.email.participants import do_add_participant, do_remove_participant
from threadline.channels.email.testkit import FIXTURES, SmtpSink, make_email_channel, running_sink
from threadline.channels.email.threading import explain
from threadline.channels.models import Delivery, InboundEvent
from threadline.channels.outbound import deliver_message_task
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, DeliveryStatus, Message
from threadline.conversations.redelivery import do_retry_delivery
from threadline.core.time import now
from threadline.jobs.models import Job


def inbound(channel, run_jobs, *, sender="dana@example.com", name="Dana Levi", subject="Order 1001",
            body="Where is my order?", message_id="<m1@mail.example.com>", to="support@acme.test", **headers):
    message = EmailMessage()
    message["From"] = f"{name} <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for key, value in headers.items():
        message[key.replace("_", "-")] = value
    message.set_content(body)
    edge.store(channel, message.as_bytes(), transport="smtp", envelope_from=sender, recipients=[to])
    run_jobs()
    return Message.objects.get(provider_message_id=message_id)


def reply(admin, conversation, run_jobs, text="It ships tomorrow."):
    with transaction.atomic():
        message = do_send_reply(admin, conversation, text)
    run_jobs()
    message.refresh_from_db()
    return message


@pytest.fixture
def smtp_sink():
    yield from running_sink()


@pytest.fixture
def channel(admin, smtp_sink):
    return make_email_channel(admin, relay_url=smtp_sink.url, display_name="Acme Support")


def test_reply_carries_threading_headers_and_the_customer_reply_threads_back(channel, admin, run_jobs, smtp_sink):
    first = inbound(channel, run_jobs)
    conversation = first.conversation
    sent = reply(admin, conversation, run_jobs)
    assert sent.status == DeliveryStatus.SENT
    captured = smtp_sink.handler.received[-1]
    mime = captured.message
    assert captured.rcpt_tos == ["dana@example.com"]
    assert mime["Message-ID"] == sent.provider_message_id
    assert f".c{conversation.pk}-" in mime["Message-ID"] and mime["Message-ID"].endswith("@acme.test>")
    assert mime["In-Reply-To"] == "<m1@mail.example.com>"
    assert mime["References"] == "<m1@mail.example.com>"
    assert mime["Subject"] == f"Re: Order 1001 [#{conversation.pk}]"
    assert mime["Reply-To"].addresses[0].addr_spec.startswith(f"support+c{conversation.pk}-")
    assert mime["From"].addresses[0].addr_spec == "support@acme.test"
    assert "Auto-Submitted" not in mime
    assert captured.mail_from.startswith("support+b") and captured.mail_from.endswith("@acme.test")  # VERP
    text = mime.get_body(("plain",)).get_content()
    html = mime.get_body(("html",)).get_content()
    assert "##- Please type your reply above this line -##" in text and "It ships tomorrow." in text
    assert "It ships tomorrow." in html

    # The customer answers from another address with no References at all, only In-Reply-To.
    answer = inbound(channel, run_jobs, sender="dana.private@example.org", message_id="<m2@example.org>",
                     subject="Re: Order 1001", In_Reply_To=sent.provider_message_id,
                     body="Thanks!\n\n##- Please type your reply above this line -##\nOn Mon, Acme wrote:\n> old")
    assert answer.conversation_id == conversation.pk
    assert answer.text == "Thanks!"
    assert answer.metadata["threading"]["rule"] == "conversation_hint"
    assert answer.metadata["email"]["threading"]["signal"] == "message_id_token"
    assert answer.metadata["email"]["threading"]["header"] == "In-Reply-To"
    assert "In-Reply-To" in explain(answer.metadata)

    # The next reply references the whole chain.
    second = reply(admin, conversation, run_jobs, "You're welcome.")
    mime = smtp_sink.handler.received[-1].message
    assert mime["In-Reply-To"] == "<m2@example.org>"
    assert mime["References"].split() == ["<m1@mail.example.com>", sent.provider_message_id, "<m2@example.org>"]
    assert second.provider_message_id != sent.provider_message_id


def test_a_reply_sent_again_after_a_crash_keeps_its_message_id_and_an_agents_retry_gets_a_new_one(
        channel, admin, run_jobs, smtp_sink):
    sent = reply(admin, inbound(channel, run_jobs).conversation, run_jobs)
    first = smtp_sink.handler.received[-1].message["Message-ID"]
    # the worker was killed before this send's outcome was committed: the delivery is pending, its job runs again
    Delivery.objects.filter(message=sent).update(state=Delivery.State.PENDING)
    Message.objects.filter(pk=sent.pk).update(status=DeliveryStatus.QUEUED, provider_message_id="")
    with transaction.atomic():
        deliver_message_task.enqueue(sent.pk)
    run_jobs()
    assert len(smtp_sink.handler.received) == 2
    assert smtp_sink.handler.received[-1].message["Message-ID"] == first  # the same message to mail stores
    assert Message.objects.get(pk=sent.pk).provider_message_id == first

    Message.objects.filter(pk=sent.pk).update(status=DeliveryStatus.FAILED)  # say it bounced: the agent retries
    with transaction.atomic():
        do_retry_delivery(admin, Message.objects.get(pk=sent.pk))
    run_jobs()
    retried = smtp_sink.handler.received[-1].message["Message-ID"]
    assert len(smtp_sink.handler.received) == 3 and retried != first and retried.startswith(f"<tl.{sent.pk}x")


def test_reply_to_the_plus_address_threads_without_any_header(channel, admin, run_jobs, smtp_sink):
    first = inbound(channel, run_jobs)
    reply(admin, first.conversation, run_jobs)
    reply_to = smtp_sink.handler.received[-1].message["Reply-To"].addresses[0].addr_spec
    with transaction.atomic():
        Conversation.objects.filter(pk=first.conversation_id).update(status="solved", solved_at=now())
    later = inbound(channel, run_jobs, sender="someone.else@example.net", message_id="<m3@example.net>",
                    subject="no subject reference here", to=reply_to)
    assert later.conversation_id == first.conversation_id
    assert later.metadata["email"]["threading"] == {"signal": "reply_address", "token": reply_to.split("+")[1]
                                                    .split("@")[0]}
    assert Conversation.objects.get(pk=first.conversation_id).status == "open"  # reopened


def test_a_forged_token_is_ignored(channel, admin, run_jobs):
    first = inbound(channel, run_jobs)
    forged = f"support+c{first.conversation_id}-000000000000@acme.test"
    other = inbound(channel, run_jobs, sender="mallory@evil.example", message_id="<x@evil.example>", to=forged,
                    subject=f"Re: [#{first.conversation_id}]")
    assert other.conversation_id != first.conversation_id
    assert other.metadata["threading"]["rule"] == "new_conversation"


def test_subject_reference_threads_only_for_the_conversations_own_people(channel, admin, run_jobs):
    first = inbound(channel, run_jobs)
    cid = first.conversation_id
    with transaction.atomic():
        Conversation.objects.filter(pk=cid).update(status="solved", solved_at=now() - __import__("datetime")
                                                   .timedelta(days=30))
    same = inbound(channel, run_jobs, message_id="<s1@x>", subject=f"Re: Order 1001 [#{cid}]")
    assert same.conversation_id == cid
    assert same.metadata["email"]["threading"] == {"signal": "subject_reference", "reference": f"#{cid}"}
    stranger = inbound(channel, run_jobs, sender="stranger@example.net", message_id="<s2@x>",
                       subject=f"Re: Order 1001 [#{cid}]")
    assert stranger.conversation_id != cid


def test_references_thread_a_colleagues_reply_all(channel, admin, run_jobs):
    first = inbound(channel, run_jobs)
    colleague = inbound(channel, run_jobs, sender="boss@example.com", name="Boss", message_id="<c1@x>",
                        References="<unrelated@x> <m1@mail.example.com>", subject="Re: Order 1001")
    assert colleague.conversation_id == first.conversation_id
    assert colleague.metadata["threading"] == {"rule": "references", "matched": "<m1@mail.example.com>"}
    assert colleague.metadata["email"]["threading"]["header"] == "References"


def test_cc_people_become_participants_and_stay_on_replies(channel, admin, run_jobs, smtp_sink):
    first = inbound(channel, run_jobs, Cc="Petra <petra@example.cz>, support@acme.test")
    conversation = first.conversation
    reply(admin, conversation, run_jobs)
    captured = smtp_sink.handler.received[-1]
    assert sorted(captured.rcpt_tos) == ["dana@example.com", "petra@example.cz"]
    assert captured.message["Cc"].addresses[0].addr_spec == "petra@example.cz"
    with transaction.atomic():
        do_remove_participant(admin, conversation, "petra@example.cz")
        do_add_participant(admin, conversation, "Lawyer@Example.com", "Legal")
    inbound(channel, run_jobs, message_id="<m9@x>", Cc="petra@example.cz", In_Reply_To="<m1@mail.example.com>")
    reply(admin, conversation, run_jobs, "Copying our lawyer.")
    assert sorted(smtp_sink.handler.received[-1].rcpt_tos) == ["dana@example.com", "lawyer@example.com"]
    kinds = list(conversation.events.values_list("kind", flat=True))
    assert "participant_removed" in kinds and "participant_added" in kinds


def test_temporary_relay_failure_is_retried_and_permanent_one_shown(channel, admin, run_jobs, smtp_sink):
    first = inbound(channel, run_jobs)
    smtp_sink.handler.answers = ["451 4.3.0 try later"]
    message = reply(admin, first.conversation, run_jobs)
    assert message.status == DeliveryStatus.QUEUED
    assert "451" in message.delivery.last_error
    Job.objects.filter(state=Job.State.QUEUED).update(run_after=now())
    run_jobs()
    message.refresh_from_db()
    assert message.status == DeliveryStatus.SENT
    assert len(smtp_sink.handler.received) == 1

    smtp_sink.handler.answers = ["550 5.1.1 mailbox unavailable"]
    failed = reply(admin, first.conversation, run_jobs, "second")
    assert failed.status == DeliveryStatus.FAILED
    assert "550 5.1.1 mailbox unavailable" in failed.status_reason


def test_relay_with_starttls_and_auth(admin, run_jobs):
    sink = SmtpSink(tls=True, auth=("relay-user", "relay-pass")).start()
    try:
        channel = make_email_channel(
            admin, relay_url=f"smtp://relay-user:relay-pass@127.0.0.1:{sink.port}?starttls=required&verify=false")
        first = inbound(channel, run_jobs)
        message = reply(admin, first.conversation, run_jobs)
        assert message.status == DeliveryStatus.SENT, message.status_reason
        assert sink.handler.logins == [("relay-user", "relay-pass")]
        assert sink.handler.tls_sessions == [True]
    finally:
        sink.stop()


def test_no_relay_is_a_permanent_failure_with_a_reason(admin, run_jobs, settings):
    settings.SMTP_RELAY_URL = ""
    channel = make_email_channel(admin)
    first = inbound(channel, run_jobs)
    message = reply(admin, first.conversation, run_jobs)
    assert message.status == DeliveryStatus.FAILED
    assert "relay" in message.status_reason


def test_a_bounce_marks_the_reply_failed(channel, admin, run_jobs, smtp_sink):
    first = inbound(channel, run_jobs)
    sent = reply(admin, first.conversation, run_jobs)
    original = smtp_sink.handler.received[-1].data.decode()
    dsn = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\nTo: support@acme.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.example.com>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; dana@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <dana@example.com>: Recipient address rejected: User unknown\r\n\r\n"
        "--b\r\nContent-Type: message/rfc822\r\n\r\n" + original + "\r\n--b--\r\n"
    ).encode()
    edge.store(channel, dsn, transport="smtp", envelope_from="", recipients=["support@acme.test"])
    run_jobs()
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.FAILED
    assert "5.1.1" in sent.status_reason and "User unknown" in sent.status_reason
    assert Message.objects.filter(direction="in").count() == 1  # the bounce is not a customer message
    assert InboundEvent.objects.filter(idempotency_key="<dsn1@mx.example.com>").get().state == "processed"


def test_a_non_standard_bounce_to_the_verp_address_marks_the_reply_failed(channel, admin, run_jobs, smtp_sink):
    first = inbound(channel, run_jobs)
    sent = reply(admin, first.conversation, run_jobs)
    verp = smtp_sink.handler.received[-1].mail_from
    bounce = (b"From: postmaster@old-mailer.example\r\nTo: " + verp.encode() + b"\r\nSubject: failure notice\r\n"
              b"Message-ID: <qmail1@old-mailer.example>\r\n\r\nHi. This is the qmail-send program.\r\n"
              b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
              b"<dana@example.com>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n")
    edge.store(channel, bounce, transport="smtp", envelope_from="", recipients=[verp])
    run_jobs()
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.FAILED


def test_auto_replies_are_marked_never_to_be_answered(channel, run_jobs):
    ooo = inbound(channel, run_jobs, message_id="<ooo@x>", subject="Automatic reply: Order 1001",
                  Auto_Submitted="auto-replied")
    assert ooo.metadata["suppress_auto_response"] is True
    assert ooo.metadata["email"]["auto_reply"] == "Auto-Submitted: auto-replied"
    vacation = inbound(channel, run_jobs, sender="yossi@example.co.il", message_id="<ooo2@x>",
                       subject="מענה אוטומטי: ההזמנה שלי")
    assert vacation.metadata["email"]["auto_reply"] == "vacation subject"
    person = inbound(channel, run_jobs, sender="p@example.com", message_id="<p@x>")
    assert person.metadata["suppress_auto_response"] is False


def test_dkim_signature_verifies(admin, run_jobs, smtp_sink):
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    channel = make_email_channel(admin, relay_url=smtp_sink.url, dkim_selector="tl2026", dkim_private_key=private)
    first = inbound(channel, run_jobs)
    reply(admin, first.conversation, run_jobs, "Signed reply, שלום")
    data = smtp_sink.handler.received[-1].data
    assert data.startswith(b"DKIM-Signature:")
    record = b"v=DKIM1; k=rsa; p=" + __import__("base64").b64encode(public)

    def dns(name, timeout=5):
        return record if name == b"tl2026._domainkey.acme.test." else None

    assert dkim.verify(data, dnsfunc=dns)
    assert b"Signed reply" in data
    assert not dkim.verify(data.replace(b"Signed reply", b"Signed replY"), dnsfunc=dns)


def test_a_known_contact_writing_by_email_continues_their_open_conversation(channel, admin, run_jobs):
    from threadline.channels.base import InboundMessage
    from threadline.conversations.actions import receive_inbound_message
    from threadline.testing.factories import make_api_channel

    with transaction.atomic():
        chat = receive_inbound_message(make_api_channel(admin), InboundMessage(
            provider_message_id="shop-1", sender_kind="email", sender_address="Dana@Example.com", text="from the shop"))
    by_email = inbound(channel, run_jobs, subject="Something else entirely")
    assert by_email.conversation_id == chat.conversation_id
    assert by_email.metadata["threading"] == {"rule": "contact_open_conversation",
                                              "conversation_id": chat.conversation_id}


# ── replies that cannot be built as they are (issue 9 item 8) ──────────────────────────────────────────
def eai_inbound(channel, run_jobs):
    """The EAI fixture (raw UTF-8 From, Cc; no Subject), as the SMTP listener stores it."""
    raw = (FIXTURES / "eai-utf8-addresses.eml").read_bytes()
    edge.store(channel, raw, transport="smtp", envelope_from="jiří@příklad.cz", recipients=["support@acme.test"])
    run_jobs()
    return Message.objects.select_related("identity", "conversation__contact").get(direction="in")


def test_a_mail_without_subject_and_an_agents_multiline_subject_give_one_line_reply_subjects(
        channel, admin, run_jobs, smtp_sink):
    first = inbound(channel, run_jobs, subject="", body="My order\nnever came.\nDana")
    conversation = first.conversation
    sent = reply(admin, conversation, run_jobs)
    assert sent.status == DeliveryStatus.SENT, sent.status_reason
    assert smtp_sink.handler.received[-1].message["Subject"] == f"Re: My order never came. Dana [#{conversation.pk}]"
    with transaction.atomic():  # an agent (or an integration) sets a subject with a line break in it
        Conversation.objects.filter(pk=conversation.pk).update(subject="Order 1001\r\nBcc: victim@example.org")
    again = reply(admin, conversation, run_jobs, "And another thing.")
    assert again.status == DeliveryStatus.SENT, again.status_reason
    mime = smtp_sink.handler.received[-1].message
    assert mime["Subject"] == f"Re: Order 1001 Bcc: victim@example.org [#{conversation.pk}]"
    assert mime["Bcc"] is None and "victim@example.org" not in smtp_sink.handler.received[-1].rcpt_tos


def test_a_reply_to_internationalised_addresses_goes_out_over_smtputf8(channel, admin, run_jobs, smtp_sink):
    first = eai_inbound(channel, run_jobs)
    assert (first.identity.address, first.conversation.contact.name) == ("jiří@příklad.cz", "Jiří Novák")
    sent = reply(admin, first.conversation, run_jobs, "Faktura je v příloze.")
    assert sent.status == DeliveryStatus.SENT, sent.status_reason
    captured = smtp_sink.handler.received[-1]
    assert "SMTPUTF8" in captured.mail_options
    # An ASCII local part at an internationalised domain goes out in ASCII (the domain's A-labels).
    assert sorted(captured.rcpt_tos) == sorted(["jiří@příklad.cz", "пётр@пример.рф", "petra@xn--pklad-zsa96e.cz"])
    mime = captured.message
    assert [(a.display_name, a.addr_spec) for a in mime["To"].addresses] == [("Jiří Novák", "jiří@příklad.cz")]
    assert sorted(a.addr_spec for a in mime["Cc"].addresses) == ["petra@xn--pklad-zsa96e.cz", "пётр@пример.рф"]
    assert mime["Subject"] == f"Re: Dobrý den, prosím o fakturu k objednávce 1001. Jiří [#{first.conversation_id}]"


def test_a_relay_without_smtputf8_fails_the_reply_with_a_reason_shown_in_the_api_and_the_workspace(
        admin, run_jobs, client, api):
    sink = SmtpSink(smtputf8=False).start()
    try:
        channel = make_email_channel(admin, relay_url=sink.url)
        first = eai_inbound(channel, run_jobs)
        failed = reply(admin, first.conversation, run_jobs, "Faktura je v příloze.")
    finally:
        sink.stop()
    assert failed.status == DeliveryStatus.FAILED
    assert "SMTPUTF8" in failed.status_reason and "jiří@příklad.cz" in failed.status_reason
    assert "пётр@пример.рф" in failed.status_reason and "petra" not in failed.status_reason
    assert not Job.objects.filter(state=Job.State.QUEUED).exists()  # not a silent retry loop
    assert sink.handler.received == []
    shown = api.get(f"/api/v1/messages/{failed.pk}").json()
    assert (shown["status"], shown["status_reason"]) == ("failed", failed.status_reason)
    client.force_login(admin.user)
    page = client.get(f"/app/c/{first.conversation_id}/").content.decode()
    assert "SMTPUTF8" in page
