"""Polling mailboxes over IMAP (imapclient): for email channels whose mail sits in a mailbox we don't own.

`poll(channel)` connects (TLS by default), reads the unprocessed messages without marking them (BODY.PEEK),
stores each through the same edge as the SMTP listener, and only after the commit marks it \\Seen or moves
it to `processed_mailbox`. The key of each message is its Message-ID, or mailbox + UIDVALIDITY + UID when it
has none, so a message seen twice (a crash between commit and flag, two pollers, a server that forgets
flags) is imported once.

`ImapWatcher` keeps one connection per channel and waits with IDLE where the server has it (polling every
`interval` otherwise); it reconnects with backoff after a disconnect or a server restart. The periodic
`poll_imap_mailboxes_task` is the safety net that runs even when no watcher does.
"""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections

from threadline.channels.email import edge, parsing
from threadline.channels.email.adapter import EmailChannelConfig, ImapConfig, config_of
from threadline.channels.models import Channel
from threadline.jobs.registry import task

logger = logging.getLogger(__name__)

BATCH = 25
TIMEOUT = 30


@dataclass
class PollResult:
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0


COULD_NOT_CONNECT = "could not connect to the mailbox (details are in the server log)"


class MailboxUnreachable(Exception):
    """Connecting or signing in failed; the message is the same whatever failed (no port probing)."""


def _pinned_client_class() -> type:
    from imapclient import IMAPClient, imap4, tls

    from threadline.core import destinations

    class PinnedTLS(tls.IMAP4_TLS):
        def _create_socket(self, timeout: float | None = None) -> Any:
            sock = destinations.connect(self.host, self.port, timeout if timeout is not None else self._timeout)
            return tls.wrap_socket(sock, self.ssl_context, self.host)

    class PinnedPlain(imap4.IMAP4WithTimeout):
        def _create_socket(self, timeout: float | None = None) -> Any:
            return destinations.connect(self.host, self.port, timeout if timeout is not None else self._timeout)

    class PinnedIMAPClient(IMAPClient):
        """IMAPClient connecting to the address the private-address policy checked (resolved once)."""

        def _create_IMAP4(self) -> Any:
            connect_timeout = getattr(self._timeout, "connect", None)
            if self.ssl:
                return PinnedTLS(self.host, self.port, self.ssl_context, connect_timeout)
            return PinnedPlain(self.host, self.port, connect_timeout)

    return PinnedIMAPClient


def connect(config: ImapConfig) -> Any:
    """An open, signed-in connection; MailboxUnreachable (generic) on any failure, details logged."""
    from imapclient.exceptions import IMAPClientError

    from threadline.core.destinations import DestinationRefused

    context = ssl.create_default_context()
    if not config.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        client = _pinned_client_class()(config.host, port=config.port, ssl=config.security == "tls",
                                        ssl_context=context, timeout=TIMEOUT)
        if config.security == "starttls":
            client.starttls(context)
    except (DestinationRefused, OSError, IMAPClientError) as exc:
        logger.warning("IMAP %s:%s: %s: %s", config.host, config.port, type(exc).__name__, exc)
        raise MailboxUnreachable(COULD_NOT_CONNECT) from exc
    client.login(config.username, config.password)
    return client


def _ensure_folder(client: Any, name: str) -> None:
    if name and not client.folder_exists(name):
        client.create_folder(name)


def poll_with(client: Any, channel: Channel, config: EmailChannelConfig) -> PollResult:
    """One pass over the mailbox on an open connection."""
    imap = config.imap
    assert imap is not None
    result = PollResult()
    selected = client.select_folder(imap.mailbox)
    uidvalidity = int(selected.get(b"UIDVALIDITY", 0))
    criteria = ["NOT", "DELETED"] if imap.processed_mailbox else ["UNSEEN", "NOT", "DELETED"]
    uids = sorted(client.search(criteria))
    if imap.processed_mailbox:
        _ensure_folder(client, imap.processed_mailbox)
    for start in range(0, len(uids), BATCH):
        batch = uids[start:start + BATCH]
        sizes = client.fetch(batch, ["RFC822.SIZE"])
        wanted = [uid for uid in batch if int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0)) <= config.max_message_bytes]
        too_big = [uid for uid in batch if uid not in wanted]
        if too_big:  # left in place, flagged for a person: never silently dropped
            client.add_flags(too_big, [b"\\Flagged"])
            result.skipped += len(too_big)
            logger.warning("channel %s: %d messages over the size limit left flagged in %s", channel.pk,
                           len(too_big), imap.mailbox)
        done = []
        for uid, data in client.fetch(wanted, ["BODY.PEEK[]"]).items():
            raw = data.get(b"BODY[]") or b""
            ids = parsing.message_ids(_header(raw, b"message-id"))
            key = ids[0] if ids else f"imap:{imap.mailbox}:{uidvalidity}:{uid}"
            _event, created = edge.store(
                channel, raw, transport="imap", envelope_from=None, recipients=[config.address], key=key,
                extra={"imap-mailbox": imap.mailbox, "imap-uidvalidity": str(uidvalidity), "imap-uid": str(uid)},
            )
            result.stored += int(created)
            result.duplicates += int(not created)
            done.append(uid)
        if done:  # only after every one of them is committed
            if imap.processed_mailbox:
                if client.has_capability("MOVE"):
                    client.move(done, imap.processed_mailbox)
                else:
                    client.copy(done, imap.processed_mailbox)
                    client.delete_messages(done)
                    if client.has_capability("UIDPLUS"):
                        client.expunge(done)
                    else:
                        client.expunge()
            else:
                client.add_flags(done, [b"\\Seen"])
    return result


def _header(raw: bytes, name: bytes) -> str:
    from threadline.channels.email.adapter import _quick_header

    return _quick_header(raw, name)


def poll(channel: Channel) -> PollResult:
    """Connect, poll the channel's mailbox once, log out."""
    config = config_of(channel)
    if config.imap is None:
        return PollResult()
    client = connect(config.imap)
    try:
        return poll_with(client, channel, config)
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be gone
            pass


@task(max_attempts=3)
def poll_imap_channel_task(channel_id: int) -> None:
    channel = Channel.objects.filter(pk=channel_id, kind="email", is_active=True).first()
    if channel is None:
        return
    result = poll(channel)
    if result.stored:
        logger.info("channel %s: %d new messages over IMAP", channel_id, result.stored)


@task(max_attempts=1)
def poll_imap_mailboxes_task() -> None:
    """Periodic: one poll job per email channel that has a mailbox to poll."""
    for route in edge.email_channels():
        if route.config.imap is not None:
            poll_imap_channel_task.enqueue(route.channel.pk, unique_key=f"imap-poll:{route.channel.pk}:{_slot()}")


def _slot() -> int:
    from threadline.core.time import now

    return int(now().timestamp() // 30)


class ImapWatcher:
    """Waits for new mail on one channel's mailbox (IDLE, else polling) until `stop()`; survives restarts."""

    def __init__(self, channel_id: int, *, interval: float = 60.0, idle_timeout: float = 240.0) -> None:
        self.channel_id = channel_id
        self.interval = interval
        self.idle_timeout = idle_timeout
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.polls = 0

    def start(self) -> ImapWatcher:
        self.thread = threading.Thread(target=self.run, name=f"threadline-imap-{self.channel_id}", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def run(self) -> None:
        backoff = 1.0
        while not self.stopping.is_set():
            close_old_connections()
            try:
                channel = Channel.objects.get(pk=self.channel_id)
                config = config_of(channel)
                if config.imap is None or not channel.is_active:
                    return
                client = connect(config.imap)
                backoff = 1.0
                try:
                    self._session(client, channel, config)
                finally:
                    try:
                        client.logout()
                    except Exception:  # noqa: BLE001
                        pass
            except Exception as exc:  # noqa: BLE001 - disconnects, restarts, wrong passwords: retry later
                logger.warning("IMAP watcher for channel %s: %s; reconnecting in %.0fs", self.channel_id, exc,
                               backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 60.0)
            finally:
                close_old_connections()

    def _session(self, client: Any, channel: Channel, config: EmailChannelConfig) -> None:
        assert config.imap is not None
        idle = config.imap.idle and client.has_capability("IDLE")
        while not self.stopping.is_set():
            close_old_connections()  # a long-lived thread: drop a connection the database closed
            poll_with(client, channel, config)
            self.polls += 1
            if not idle:
                self.stopping.wait(self.interval)
                client.noop()
                continue
            client.idle()
            try:
                waited = 0.0
                while not self.stopping.is_set() and waited < self.idle_timeout:
                    if client.idle_check(timeout=1):
                        break
                    waited += 1
            finally:
                client.idle_done()


def start_watchers() -> list[ImapWatcher]:
    """One watcher per email channel with a mailbox (for `threadline serve` and `threadline worker`)."""
    return [ImapWatcher(route.channel.pk).start() for route in edge.email_channels() if route.config.imap]


def stop_watchers(watchers: list[ImapWatcher]) -> None:
    for watcher in watchers:
        watcher.stopping.set()
    for watcher in watchers:
        watcher.stop()
