"""Polling a real IMAP server (Debian's Dovecot, started by the test with its own config on loopback)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from threadline.channels.email import imap
from threadline.channels.email.testkit import (
    Dovecot,
    make_email_channel,
    require_dovecot,
    running_dovecot,
    wait_for,
)
from threadline.channels.models import InboundEvent
from threadline.conversations.models import Message

pytestmark = pytest.mark.slow


@pytest.fixture
def dovecot():
    yield from running_dovecot()


def raw_mail(n: int, *, message_id: bool = True, sender: str = "dana@example.com") -> bytes:
    message = EmailMessage()
    message["From"] = f"Dana <{sender}>"
    message["To"] = "support@acme.test"
    message["Subject"] = f"Question {n}"
    if message_id:
        message["Message-ID"] = f"<imap-{n}@example.com>"
    message.set_content(f"Body {n}: שלום")
    return message.as_bytes()


def channel_for(admin, server: Dovecot, **imap_config):
    return make_email_channel(admin, imap={
        "host": "127.0.0.1", "port": server.port, "username": server.user, "password": server.password,
        "security": "tls" if server.tls else "none", "verify_tls": False, **imap_config,
    })


def seen_flags(server: Dovecot, mailbox: str = "INBOX"):
    with server.client() as client:
        client.select_folder(mailbox)
        return {uid: data[b"FLAGS"] for uid, data in client.fetch(client.search(["ALL"]), ["FLAGS"]).items()}


def test_poll_imports_once_and_marks_seen(dovecot, admin, run_jobs):
    channel = channel_for(admin, dovecot)
    dovecot.append(raw_mail(1))
    dovecot.append(raw_mail(2, message_id=False))
    first = imap.poll(channel)
    assert (first.stored, first.duplicates) == (2, 0)
    assert all(b"\\Seen" in flags for flags in seen_flags(dovecot).values())
    assert imap.poll(channel).stored == 0
    dovecot.append(raw_mail(1))  # the same Message-ID again (a resend, a second copy): not imported twice
    again = imap.poll(channel)
    assert (again.stored, again.duplicates) == (0, 1)
    run_jobs()
    assert sorted(Message.objects.values_list("text", flat=True)) == ["Body 1: שלום", "Body 2: שלום"]
    keys = sorted(InboundEvent.objects.values_list("idempotency_key", flat=True))
    assert keys[0] == "<imap-1@example.com>" and keys[1].startswith("imap:INBOX:")
    assert InboundEvent.objects.get(idempotency_key="<imap-1@example.com>").headers["x-threadline-transport"] == "imap"


def test_processed_mail_is_moved(dovecot, admin):
    channel = channel_for(admin, dovecot, processed_mailbox="Threadline")
    dovecot.append(raw_mail(3))
    assert imap.poll(channel).stored == 1
    assert seen_flags(dovecot) == {}
    assert len(seen_flags(dovecot, "Threadline")) == 1


def test_tls_connection(admin):
    require_dovecot()
    server = Dovecot(tls=True).start()
    try:
        channel = channel_for(admin, server)
        server.append(raw_mail(4))
        assert imap.poll(channel).stored == 1
    finally:
        server.stop()


def test_wrong_password_raises_and_stores_nothing(dovecot, admin):
    channel = channel_for(admin, dovecot, password="wrong")
    dovecot.append(raw_mail(5))
    with pytest.raises(Exception):  # noqa: B017 - imapclient's LoginError
        imap.poll(channel)
    assert InboundEvent.objects.count() == 0


def test_watcher_uses_idle_and_survives_a_server_restart(dovecot, admin, transactional_db):
    channel = channel_for(admin, dovecot)
    watcher = imap.ImapWatcher(channel.pk, interval=0.5).start()
    try:
        dovecot.append(raw_mail(6))
        assert wait_for(lambda: InboundEvent.objects.filter(idempotency_key="<imap-6@example.com>").exists())
        dovecot.restart()
        dovecot.append(raw_mail(7))
        assert wait_for(lambda: InboundEvent.objects.filter(idempotency_key="<imap-7@example.com>").exists(),
                        timeout=60)
    finally:
        watcher.stop()
    assert InboundEvent.objects.count() == 2


def test_periodic_task_enqueues_a_poll_per_mailbox(dovecot, admin, run_jobs):
    channel_for(admin, dovecot)
    make_email_channel(admin, "sales@acme.test")  # no mailbox: not polled
    dovecot.append(raw_mail(8))
    imap.poll_imap_mailboxes_task.enqueue()
    run_jobs()
    assert Message.objects.get().text == "Body 8: שלום"
