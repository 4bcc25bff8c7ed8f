"""Real bounces, as mail servers wrote them: the samples Debian's python3-flufl.bounce package ships.

Each permanent failure must be recognised as a bounce (never a customer message), a delayed-delivery notice
must not fail anything, and a bounce naming a message Threadline sent marks that message failed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import transaction

from threadline.channels.email import edge, loops, parsing
from threadline.channels.email.testkit import make_email_channel
from threadline.conversations.actions import do_send_reply, receive_inbound_message
from threadline.conversations.models import DeliveryStatus, Message

SAMPLES = Path("/usr/lib/python3/dist-packages/flufl/bounce/tests/data")


def samples() -> list[Path]:
    found = sorted(SAMPLES.glob("*.txt"))
    if not found:
        if os.environ.get("CI"):
            pytest.fail("Debian's python3-flufl.bounce is not installed; CI needs its bounce samples")
        pytest.skip("apt-get install python3-flufl.bounce for the real bounce samples")
    return found


def test_every_real_bounce_is_classified_like_flufl_says():
    from flufl.bounce import all_failures

    checked = 0
    for path in samples():
        parsed = parsing.parse(path.read_bytes())
        temporary, permanent = all_failures(parsed.message)
        bounce = loops.bounce_of(parsed.message, None)
        if permanent:
            assert bounce is not None, path.name
            assert {a.decode().lower() for a in permanent} <= set(bounce.recipients) or bounce.recipients, path.name
            checked += 1
        elif temporary and parsed.message.get_content_type() == "multipart/report":
            assert bounce is None, f"{path.name}: a delay notice is not a failure"
    assert checked >= 60


def test_a_real_bounce_marks_the_message_it_names_failed(admin, run_jobs):
    channel = make_email_channel(admin)
    with_ids = []
    for path in samples():
        parsed = parsing.parse(path.read_bytes())
        bounce = loops.bounce_of(parsed.message, "")
        if bounce is not None and bounce.original_message_ids:
            with_ids.append((path, bounce.original_message_ids[0]))
    assert len(with_ids) >= 5
    outbound = {}
    for n, (_path, original_id) in enumerate(with_ids):
        with transaction.atomic():
            from threadline.channels.base import InboundMessage

            first = receive_inbound_message(channel, InboundMessage(
                provider_message_id=f"<in-{n}@example.com>", sender_kind="email",
                sender_address=f"customer{n}@example.com", text="hello"))
            reply = do_send_reply(admin, first.conversation, "our answer")
            Message.objects.filter(pk=reply.pk).update(provider_message_id=original_id, status=DeliveryStatus.SENT)
        outbound[original_id] = reply.pk
    for path, _original in with_ids:
        edge.store(channel, path.read_bytes(), transport="smtp", envelope_from="", recipients=["support@acme.test"],
                   key=f"bounce:{path.name}")
    from threadline.jobs.models import Job

    Job.objects.filter(task__endswith="deliver_message_task").delete()  # no relay here: only bounces matter
    run_jobs()
    failed = dict(Message.objects.filter(pk__in=outbound.values()).values_list("pk", "status"))
    assert failed == {pk: DeliveryStatus.FAILED for pk in outbound.values()}
    assert not Message.objects.filter(direction="in", identity__address__contains="daemon").exists()


# ── recognised whatever the envelope says (issue 9 item 7) ─────────────────────────────────────────────
# The corpus keeps one person's reply as a check against false positives (flufl.bounce's GroupWise
# detector once took it for a bounce): it must stay a customer message that automations may answer.
WRITTEN_BY_A_PERSON = {"groupwise_03.txt"}


def as_relayed(path: Path) -> bytes:
    """The sample as a forwarding server or list software hands it on: no mbox separator, CRLF line ends,
    a trace header naming the sample (so each stored copy can be told apart)."""
    lines = path.read_bytes().replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    trace = (f"Received: from lists.example.org (sample {path.name}) by mx.acme.test with ESMTP; "
             "Thu, 15 Jan 2026 10:00:00 +0000").encode()
    return b"\r\n".join([trace, *lines])


def answer_everything(api):
    """An automation acknowledging every customer message: the thing a bounce must never trigger."""
    ack = api.post("/api/v1/replies/templates", {"name": "Ack", "kind": "automatic", "variants": [
        {"language": "en", "text": "We got your message."}]}, content_type="application/json")
    assert ack.status_code == 201, ack.content
    rule = api.post("/api/v1/automations", {"name": "acknowledge", "events": ["message.received"],
                                            "conditions": {"all": []},
                                            "actions": [{"type": "send_reply", "template_id": ack.json()["id"]}]},
                    content_type="application/json")
    assert rule.status_code == 201, rule.content


def assert_each_sample_recognised(channel, names: list[str], api) -> None:
    from threadline.channels.email.adapter import idempotency_key_for
    from threadline.channels.models import InboundEvent

    seen = {}
    for event in InboundEvent.objects.filter(channel=channel):
        assert event.state == InboundEvent.State.PROCESSED, (event.idempotency_key, event.error)
        body = bytes(event.body)
        name = body.split(b"(sample ", 1)[1].split(b")", 1)[0].decode()
        provider_id = parsing.parse(body).message_id or idempotency_key_for(body)
        seen[name] = Message.objects.get(channel=channel, direction="in", provider_message_id=provider_id)
    assert sorted(seen) == sorted(names)  # every sample stored, none lost or merged into another
    for name, message in seen.items():
        email = message.metadata["email"]
        if name in WRITTEN_BY_A_PERSON:
            assert message.metadata["suppress_auto_response"] is False, name
            continue
        assert message.metadata["suppress_auto_response"] is True, (name, email["auto_reply"])
        assert email["auto_reply"] and not email["loop_suspected"], name
    shown = api.get(f"/api/v1/messages/{seen['smtp32_05.txt'].pk}/email").json()  # a bounce of mail not ours
    assert shown["auto_reply"] == "delivery failure" and shown["bounce"]["permanent"] is True
    assert shown["bounce"]["recipients"] and shown["bounce"]["reason"]
    answered = set(Message.objects.filter(channel=channel, direction="out").values_list("identity__address",
                                                                                         flat=True))
    assert answered == {seen[name].identity.address for name in WRITTEN_BY_A_PERSON}


@pytest.fixture
def smtp_listener(transactional_db):
    from threadline.channels.email.testkit import running_listener

    yield from running_listener()


@pytest.mark.slow
def test_every_real_bounce_relayed_over_smtp_with_a_sender_is_recognised_and_never_answered(
        smtp_listener, admin, api, run_jobs, settings):
    """Forwarded (SRS) and list-resent bounces reach us with a non-empty envelope sender."""
    import smtplib

    settings.SMTP_RELAY_URL = ""
    paths = samples()
    channel = make_email_channel(admin, sender_rate_limit_per_hour=100_000)
    answer_everything(api)
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=30) as client:
        for n, path in enumerate(paths):
            envelope = f"SRS0=h{n:03d}=QX=example.net=owner@forwarder.example.org" if n % 2 else \
                "gpc-talk-bounces@lists.example.org"
            refused = client.sendmail(envelope, ["support@acme.test"], as_relayed(path))
            assert refused == {}, path.name
    run_jobs()
    assert_each_sample_recognised(channel, [p.name for p in paths], api)


@pytest.mark.slow
def test_every_real_bounce_fetched_over_imap_is_recognised_and_never_answered(admin, api, run_jobs, settings):
    """A polled mailbox gives no envelope at all."""
    from threadline.channels.email import imap
    from threadline.channels.email.testkit import running_dovecot

    settings.SMTP_RELAY_URL = ""
    paths = samples()
    for server in running_dovecot():
        channel = make_email_channel(admin, sender_rate_limit_per_hour=100_000, imap={
            "host": "127.0.0.1", "port": server.port, "username": server.user, "password": server.password,
            "security": "none"})
        answer_everything(api)
        with server.client() as client:
            for path in paths:
                client.append("INBOX", as_relayed(path))
        assert imap.poll(channel).stored == len(paths)
    run_jobs()
    assert_each_sample_recognised(channel, [p.name for p in paths], api)


AUTO_RESPONSES = {
    # Outlook's read receipt (RFC 8098 MDN): a report, not a person writing
    "outlook-read-receipt": (
        "From: Dana Levi <dana@example.com>\r\nTo: support@acme.test\r\nSubject: Read: Order 1001\r\n"
        "Message-ID: <mdn-1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report;"
        " report-type=disposition-notification; boundary=\"mdn\"\r\n\r\n--mdn\r\nContent-Type: text/plain;"
        " charset=utf-8\r\n\r\nYour message was read on Thursday.\r\n--mdn\r\nContent-Type:"
        " message/disposition-notification\r\n\r\nReporting-UA: mail.example.com; Microsoft Outlook 16.0\r\n"
        "Final-Recipient: rfc822;dana@example.com\r\nOriginal-Message-ID: <tl.1.c1-x@acme.test>\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--mdn--\r\n"),
    # old Exchange and hosted mail answering without any RFC 3834 header: only the subject says it
    "exchange-de": "Subject: Automatische Antwort: Bestellung 1001\r\n\r\nIch bin bis 20.01. nicht im Büro.\r\n",
    "gmail-es": "Subject: Respuesta automática: Pedido 1001\r\n\r\nEstoy de vacaciones hasta el lunes.\r\n",
    "yandex-ru": "Subject: Автоответ: Заказ 1001\r\n\r\nЯ в отпуске до понедельника.\r\n",
    "outlook-ja": "Subject: 自動応答: 注文 1001\r\n\r\n月曜日まで不在です。\r\n",
    "zoho-pt": "Subject: Resposta automática: Pedido 1001\r\n\r\nEstou de férias.\r\n",
    "x-auto-reply": "Subject: Re: Order 1001\r\nX-Auto-Reply: yes\r\n\r\nThanks, we will get back to you.\r\n",
    "groupwise": "Subject: Re: Order 1001\r\nX-Autogenerated: Reply\r\n\r\nI am away.\r\n",
}


@pytest.mark.slow
def test_auto_responses_with_a_sender_are_never_answered(smtp_listener, admin, api, run_jobs, settings):
    import smtplib

    settings.SMTP_RELAY_URL = ""
    channel = make_email_channel(admin)
    answer_everything(api)
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=10) as client:
        for name, raw in AUTO_RESPONSES.items():
            sender = f"{name}@example.com"
            if raw.startswith("From:"):
                raw = raw.replace("dana@example.com", sender)
            else:
                raw = (f"From: Dana Levi <{sender}>\r\nTo: support@acme.test\r\nMessage-ID: <{name}@example.com>\r\n"
                       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" + raw)
            client.sendmail(sender, ["support@acme.test"], raw.encode())
    run_jobs()
    for name in AUTO_RESPONSES:
        message = Message.objects.get(channel=channel, direction="in", identity__address=f"{name}@example.com")
        assert message.metadata["suppress_auto_response"] is True, name
        assert message.metadata["email"]["auto_reply"], name
    assert not Message.objects.filter(direction="out").exists()
