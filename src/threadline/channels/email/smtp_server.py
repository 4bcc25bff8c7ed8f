"""The inbound SMTP listener (aiosmtpd), run in a background thread by `threadline serve --smtp-port N`.

It accepts mail only for the addresses of active email channels (plus-addresses, aliases, catch-all
domains) and refuses relaying (550 5.7.1). It enforces the size limit (552 5.3.4, also announced in EHLO
SIZE; lines may be longer than RFC 5321's 1,000 bytes, as real mail has them, but every byte counts),
defers a sender who floods a channel (450 4.7.1: the loop breaker), answers 250 only after the raw
message and its processing job are committed, and 451 4.3.0 when they could not be stored, so the sending
server tries again. STARTTLS is offered when a certificate is configured. Nothing a client sends can crash
it: every handler error becomes a 451 and is logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections

from threadline.channels.email import edge

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024


def max_bytes() -> int:
    return int(settings.THREADLINE.get("EMAIL_MAX_BYTES") or os.environ.get("THREADLINE_EMAIL_MAX_BYTES")
               or DEFAULT_MAX_BYTES)


def _db(func: Any, *args: Any) -> Any:
    """Run an ORM call in a worker thread (never on the event loop), with fresh connections."""
    close_old_connections()
    try:
        return func(*args)
    finally:
        close_old_connections()


def check_recipient(address: str, envelope_from: str | None) -> tuple[str, edge.Route | None]:
    """The SMTP answer for RCPT TO:<address>, and the channel it routes to."""
    target = edge.route(address)
    if target is None:
        return "550 5.7.1 Relaying denied: no mailbox here for this address", None
    if envelope_from and edge.sender_over_limit(target, envelope_from):
        return "450 4.7.1 Too many messages from this sender; try again later", None
    return "250 2.1.5 OK", target


def deliver(raw: bytes, envelope_from: str | None, recipients: list[str], peer: str = "",
            routed: dict[str, edge.Route] | None = None) -> str:
    """Store `raw` once per channel its recipients route to; the SMTP answer to give for DATA.

    250 only when every copy is committed (a duplicate Message-ID counts as stored); 552 when larger than
    a channel accepts; 550 when no recipient is ours; 451 when storing failed. `routed`: the routes RCPT TO
    found for these addresses in this SMTP transaction, moments ago (not looked up again).
    """
    routes: dict[int, tuple[edge.Route, list[str]]] = {}
    try:
        for address in recipients:
            target = (routed or {}).get(address) or edge.route(address)
            if target is not None:
                routes.setdefault(target.channel.pk, (target, []))[1].append(address)
        if not routes:
            return "550 5.7.1 Relaying denied: no mailbox here for these addresses"
        for target, _addresses in routes.values():
            if len(raw) > target.config.max_message_bytes:
                return "552 5.3.4 Message too big for this mailbox"
        stored = []
        for target, addresses in routes.values():
            event, created = edge.store(target.channel, raw, transport="smtp", envelope_from=envelope_from,
                                        recipients=addresses, extra={"peer": peer[:100]} if peer else None)
            stored.append(f"{event.pk if event else '?'}{'' if created else ' (duplicate)'}")
    except Exception:  # noqa: BLE001 - storage failed (database down, disk full): the client must retry
        logger.exception("could not store an inbound message")
        return "451 4.3.0 Could not store the message; try again later"
    return f"250 2.0.0 OK: stored as {','.join(stored)}"


def routed(envelope: Envelope) -> dict[str, edge.Route]:
    """The routes RCPT TO found in this SMTP transaction (aiosmtpd starts a new Envelope after DATA and RSET)."""
    found = getattr(envelope, "threadline_routes", None)
    if found is None:
        found = {}
        envelope.threadline_routes = found  # type: ignore[attr-defined]
    return found


@dataclass
class Handler:
    """aiosmtpd handler: routing and storage run in a thread pool, off the event loop."""

    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(4, "threadline-smtp-db"))

    async def _call(self, func: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, _db, func, *args)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        for option in mail_options:
            name, _sep, value = option.partition("=")
            if name.upper() == "SIZE" and value.isdigit() and int(value) > max_bytes():
                return "552 5.3.4 Message size exceeds the fixed maximum message size"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        try:
            answer, target = await self._call(check_recipient, address, envelope.mail_from)
        except Exception:  # noqa: BLE001
            logger.exception("could not check a recipient")
            return "451 4.3.0 Temporary failure; try again later"
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
            routed(envelope)[address] = target
        return answer

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer or "")
        try:
            return await self._call(deliver, raw, envelope.mail_from, list(envelope.rcpt_tos), peer, routed(envelope))
        except Exception:  # noqa: BLE001
            logger.exception("could not deliver an inbound message")
            return "451 4.3.0 Could not store the message; try again later"


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key or None)
    return context


class Server(SMTP):
    """aiosmtpd's SMTP session without RFC 5321's 1,000-byte line limit: real mail (Outlook's 8-bit parts,
    its HTML) puts whole paragraphs on one line, and refusing it with `500 Line too long` loses the mail.

    A line may be as long as a whole message (plus a margin, so one line over the size limit is answered
    `552` like any oversized message); every byte still counts against `data_size_limit`. aiosmtpd reads
    with this limit in commands too, so an over-long command costs at most as much memory as DATA may.
    """

    def __init__(self, handler: Any, *, line_length_limit: int, **kwargs: Any) -> None:
        self.line_length_limit = line_length_limit  # read by SMTP.__init__ for its stream reader
        super().__init__(handler, **kwargs)


LINE_MARGIN = 64 * 1024


class Listener(Controller):
    """aiosmtpd's Controller, binding the port itself so a taken port fails loudly at start."""

    def factory(self) -> SMTP:
        limit = self.SMTP_kwargs.get("data_size_limit") or DEFAULT_MAX_BYTES
        return Server(self.handler, line_length_limit=limit + LINE_MARGIN, **self.SMTP_kwargs)


def start(port: int, host: str = "127.0.0.1", *, tls_cert: str | None = None, tls_key: str | None = None,
          hostname: str | None = None) -> Listener:
    """Start the listener in a background thread; returns it (call `stop(listener)` to end it).

    `tls_cert`/`tls_key` (PEM files; default THREADLINE_SMTP_TLS_CERT / THREADLINE_SMTP_TLS_KEY) turn on
    STARTTLS.
    """
    cert = tls_cert or os.environ.get("THREADLINE_SMTP_TLS_CERT") or None
    key = tls_key or os.environ.get("THREADLINE_SMTP_TLS_KEY") or None
    listener = Listener(
        Handler(), hostname=host, port=port, data_size_limit=max_bytes(), tls_context=tls_context(cert, key),
        require_starttls=False, enable_SMTPUTF8=True, decode_data=False, ident="Threadline ESMTP",
        server_hostname=hostname or host, timeout=120,
    )
    listener.start()
    logger.info("SMTP listener on %s:%s%s", host, port, " with STARTTLS" if cert else "")
    return listener


def stop(listener: Listener) -> None:
    listener.stop()
    handler = listener.handler
    if isinstance(handler, Handler):
        handler.executor.shutdown(wait=True)
