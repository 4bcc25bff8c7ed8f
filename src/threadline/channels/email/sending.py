"""Outbound mail: the MIME message an agent's reply becomes, and its way through the SMTP relay.

Headers: a Message-ID carrying the conversation's signed reply token, In-Reply-To and References from the
conversation's earlier mail, a plus-addressed Reply-To with the token, the subject with `[#id]`, Cc for the
conversation's participants, a VERP Return-Path so bounces name the message, Auto-Submitted on automatic
mail and List-Unsubscribe on bulk mail (with RFC 8058 one-click unsubscribe on outreach mail). Body: text and HTML rendered from the brand's template in the
conversation's language, with the "reply above this line" marker; attachments; optional DKIM signature.

Relay: `THREADLINE_SMTP_RELAY_URL` or the channel's `relay_url`: `smtp://user:pass@host:587` (STARTTLS when
offered; `?starttls=required` to insist, `?starttls=never` to skip), `smtps://host:465` (implicit TLS);
`?verify=false` accepts a self-signed certificate (test relays only). 4xx answers and connection errors
are temporary (retried with backoff), 5xx answers permanent (shown on the message).
"""

from __future__ import annotations

import email.errors
import email.policy
import email.utils
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from threadline.channels.base import DeliveryResult, OutboundMessage, PermanentSendError, TransientSendError
from threadline.channels.email import display
from threadline.channels.email import threading as thread_signals
from threadline.channels.email.adapter import EmailChannelConfig, config_of, relay_url_for
from threadline.channels.models import Channel
from threadline.core import destinations

logger = logging.getLogger(__name__)

TIMEOUT = 30
COULD_NOT_CONNECT = "could not connect to the mail server (details are in the server log)"
REFUSED = "the mail server's address is on a private network, which is not allowed"


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    username: str
    password: str
    implicit_tls: bool
    starttls: str  # "auto", "required", "never"
    verify: bool
    trusted: bool = False  # the operator's THREADLINE_SMTP_RELAY_URL: exempt from the private-address policy


def parse_relay(url: str, *, trusted: bool = False) -> Relay:
    parsed = urlparse(url)
    try:
        port = parsed.port
    except ValueError:
        port = None
        parsed = parsed._replace(netloc="")
    if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        raise PermanentSendError("the SMTP relay URL must look like smtp://user:pass@host:587")
    query = {k: v[-1].lower() for k, v in parse_qs(parsed.query).items()}
    implicit = parsed.scheme == "smtps"
    return Relay(
        host=parsed.hostname, port=port or (465 if implicit else 25),
        username=unquote(parsed.username or ""), password=unquote(parsed.password or ""),
        implicit_tls=implicit, starttls=query.get("starttls", "auto"),
        verify=query.get("verify", "true") not in ("false", "0", "no"), trusted=trusted,
    )


def _tls_context(relay: Relay) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not relay.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _PinnedSMTP(smtplib.SMTP):
    """smtplib connecting to the address `destinations` checked; STARTTLS still verifies the host name."""

    trusted = False

    def _get_socket(self, host: str, port: int, timeout: float) -> Any:
        return destinations.connect(host, port, timeout, trusted=self.trusted)


class _PinnedSMTPSSL(smtplib.SMTP_SSL, _PinnedSMTP):
    """Implicit TLS over the pinned connection (SNI and verification against the host name)."""


def _open(relay: Relay) -> smtplib.SMTP:
    """Connect, greet and start TLS; any failure up to here is one generic TransientSendError (what failed,
    refused port, timeout, TLS, goes to the server log only, so agents cannot probe ports with it)."""
    try:
        if relay.implicit_tls:
            client: smtplib.SMTP = _PinnedSMTPSSL(timeout=TIMEOUT, context=_tls_context(relay))
        else:
            client = _PinnedSMTP(timeout=TIMEOUT)
        client.trusted = relay.trusted  # type: ignore[attr-defined]
        client._host = relay.host  # what STARTTLS and implicit TLS verify (smtplib sets it only in __init__)
        code, greeting = client.connect(relay.host, relay.port)
        if code != 220:
            client.close()
            raise smtplib.SMTPConnectError(code, greeting)
    except destinations.DestinationRefused as exc:
        logger.warning("SMTP relay %s refused by the outbound policy: %s", relay.host, exc)
        raise PermanentSendError(REFUSED) from exc
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("SMTP relay %s:%s: %s: %s", relay.host, relay.port, type(exc).__name__, exc)
        raise TransientSendError(COULD_NOT_CONNECT) from exc
    try:
        client.ehlo()
        if not relay.implicit_tls and relay.starttls != "never":
            if client.has_extn("starttls"):
                client.starttls(context=_tls_context(relay))
                client.ehlo()
            elif relay.starttls == "required":
                raise PermanentSendError("the relay does not offer STARTTLS, which the relay URL requires")
    except PermanentSendError:
        client.close()
        raise
    except (OSError, smtplib.SMTPException) as exc:
        client.close()
        logger.warning("SMTP relay %s:%s: %s: %s", relay.host, relay.port, type(exc).__name__, exc)
        raise TransientSendError(COULD_NOT_CONNECT) from exc
    return client


def deliver(relay: Relay, mime: bytes, envelope_from: str, recipients: list[str], *,
            smtputf8: list[str] | None = None) -> None:
    """Hand one message to the relay; TransientSendError / PermanentSendError on failure.

    `smtputf8`: the addresses that need SMTPUTF8; the message is refused (permanently, saying why) when the
    relay does not offer it.
    """
    client = _open(relay)
    try:
        with client:
            if relay.username:
                client.login(relay.username, relay.password)
            if smtputf8 and not client.has_extn("smtputf8"):
                raise PermanentSendError(
                    _("The mail relay does not support SMTPUTF8, which these internationalised addresses need: "
                      "%(addresses)s") % {"addresses": ", ".join(smtputf8)})
            refused = client.sendmail(envelope_from, recipients, mime, mail_options=["SMTPUTF8"] if smtputf8 else [])
            if refused and len(refused) == len(recipients):
                raise _from_code(*next(iter(refused.values())))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        first = next(iter(exc.recipients.values()))
        if codes and all(code >= 500 for code in codes):
            raise PermanentSendError(f"recipient refused: {first[0]} {_text(first[1])}") from exc
        raise TransientSendError(f"recipient deferred: {first[0]} {_text(first[1])}") from exc
    except smtplib.SMTPResponseException as exc:
        raise _from_code(exc.smtp_code, exc.smtp_error) from exc
    except (PermanentSendError, TransientSendError):
        raise
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentSendError(f"the relay does not support this: {exc}") from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        logger.warning("SMTP relay %s:%s: %s: %s", relay.host, relay.port, type(exc).__name__, exc)
        raise TransientSendError(COULD_NOT_CONNECT) from exc


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _from_code(code: int, message: bytes | str) -> Exception:
    text = f"relay answered {code} {_text(message)}"[:1000]
    return PermanentSendError(text) if code >= 500 else TransientSendError(text)


# ── building the message ─────────────────────────────────────────────────────────────────────────────
def one_line(value: str) -> str:
    """A header value on one line: line breaks (a subject taken from a body, an agent's edit) become spaces."""
    return " ".join((value or "").split())


def wire_address(address: str) -> str:
    """The address as it goes on the wire: an ASCII local part at an internationalised domain becomes all
    ASCII (the domain's IDNA A-labels), so any relay takes it; a non-ASCII local part stays as it is and
    needs a relay with SMTPUTF8 (RFC 6531)."""
    local, _sep, domain = address.rpartition("@")
    if local.isascii() and not domain.isascii():
        try:
            return f"{local}@{domain.encode('idna').decode('ascii')}"
        except UnicodeError:
            return address
    return address


def header_address(name: str, address: str) -> Address:
    """An address header value built by the email library (never by string formatting)."""
    local, _sep, domain = wire_address(address).rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def needs_smtputf8(addresses: list[str]) -> list[str]:
    """The addresses that only a relay with SMTPUTF8 can carry (a non-ASCII local part)."""
    return [a for a in addresses if not wire_address(a).isascii()]


def _references(conversation_id: int, channel: Channel, in_reply_to: str, exclude_pk: int) -> list[str]:
    from threadline.conversations.models import Message

    ids = list(
        Message.objects.filter(conversation_id=conversation_id, channel=channel, provider_message_id__startswith="<")
        .exclude(pk=exclude_pk).order_by("created_at", "id").values_list("provider_message_id", flat=True)
    )
    if in_reply_to and in_reply_to.startswith("<") and in_reply_to not in ids:
        ids.append(in_reply_to)
    return ids[-20:]


def participants_for(conversation_id: int, exclude: set[str]) -> list[tuple[str, str]]:
    from threadline.channels.email.participants import sync_participants
    from threadline.conversations.models import Conversation

    conversation = Conversation.objects.get(pk=conversation_id)
    return [(p.name, p.address) for p in sync_participants(conversation) if p.active and p.address not in exclude]


def build(message: OutboundMessage, channel: Channel, config: EmailChannelConfig) -> tuple[EmailMessage, str, str]:
    """The MIME message, its Message-ID and the envelope sender (VERP) for an outbound message."""
    from threadline.conversations.models import Attachment, AuthorKind, Conversation, Message
    from threadline.tenancy.models import Brand

    stored = Message.objects.select_related("author_membership__user", "identity").get(pk=message.message_id)
    conversation = Conversation.objects.select_related("workspace", "brand", "contact").get(pk=message.conversation_id)
    workspace_id = conversation.workspace_id
    domain = config.address.partition("@")[2]
    token = thread_signals.reply_token(workspace_id, conversation.pk)
    message_id = thread_signals.new_message_id(domain, stored.pk, token,
                                               stable=message.idempotency_key.replace("-", ""))
    brand = conversation.brand or Brand.objects.filter(workspace_id=workspace_id, is_default=True).first()
    brand_name = brand.name if brand else conversation.workspace.name
    language = (conversation.language or conversation.workspace.default_language or "en")[:2]
    automatic = stored.author_kind in (AuthorKind.BOT, AuthorKind.SYSTEM) or bool(stored.metadata.get("automatic"))
    bulk = bool(stored.metadata.get("bulk"))

    mime = EmailMessage()
    sender_name = one_line(config.display_name or brand_name)
    mime["From"] = header_address(sender_name, config.address)
    recipient_name = (stored.identity.display_name if stored.identity_id else "") or conversation.contact.name
    mime["To"] = header_address(one_line(recipient_name), message.recipient_address)
    cc = participants_for(conversation.pk, {message.recipient_address, config.address, *config.aliases})
    if cc:
        mime["Cc"] = [header_address(one_line(name), address) for name, address in cc]
    mime["Reply-To"] = header_address(sender_name, thread_signals.plus_address(config.address, token))
    mime["Subject"] = thread_signals.with_reference(one_line(message.subject or conversation.subject),
                                                    conversation.pk)
    mime["Message-ID"] = message_id
    mime["Date"] = email.utils.formatdate(localtime=False)
    references = _references(conversation.pk, channel, message.in_reply_to, stored.pk)
    if message.in_reply_to.startswith("<"):
        mime["In-Reply-To"] = message.in_reply_to
    if references:
        mime["References"] = " ".join(references)
    if automatic:
        mime["Auto-Submitted"] = "auto-generated"
        mime["X-Auto-Response-Suppress"] = "All"
    one_click = str(stored.metadata.get("list_unsubscribe_url") or "")
    if one_click.startswith(("https://", "http://")):  # outreach: RFC 8058 one-click, the mailto as fallback
        mime["List-Unsubscribe"] = f"<{one_click}>, <mailto:{config.address}?subject=unsubscribe%20{token}>"
        mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    elif bulk:
        mime["List-Unsubscribe"] = f"<mailto:{config.address}?subject=unsubscribe%20{token}>"
    if bulk:
        mime["Precedence"] = "bulk"
    mime["X-Threadline-Conversation"] = str(conversation.pk)

    agent = stored.author_membership.user.name if stored.author_membership_id else ""
    with translation.override(language):
        context = {
            "marker": display.marker(language), "text": message.text, "html": display.sanitize_html(message.html),
            "brand": brand_name, "agent": agent, "conversation_id": conversation.pk,
            "direction": "rtl" if translation.get_language_bidi() else "ltr", "language": language,
        }
        text_body = render_to_string("email_channel/reply.txt", context)
        html_body = render_to_string("email_channel/reply.html", context)
    mime.set_content(text_body, cte="quoted-printable" if not text_body.isascii() else "7bit")
    mime.add_alternative(html_body, subtype="html", cte="quoted-printable")
    ids = [a["id"] for a in message.metadata.get("attachments", [])]
    for attachment in Attachment.objects.filter(pk__in=ids).order_by("id"):
        with attachment.file.open("rb") as handle:
            data = handle.read()
        maintype, _sep, subtype = (attachment.content_type or "application/octet-stream").partition("/")
        mime.add_attachment(data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                            filename=attachment.filename)
    envelope_from = thread_signals.plus_address(config.address, thread_signals.bounce_token(workspace_id, stored.pk))
    return mime, message_id, envelope_from


def dkim_sign(mime_bytes: bytes, config: EmailChannelConfig) -> bytes:
    """Prepend a DKIM-Signature (rsa-sha256, relaxed/relaxed) when the channel has a selector and key."""
    if not (config.dkim_selector and config.dkim_private_key):
        return mime_bytes
    import dkim

    domain = config.address.partition("@")[2]
    try:
        signature = dkim.sign(
            mime_bytes, config.dkim_selector.encode(), domain.encode(), config.dkim_private_key.encode(),
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to",
                             b"references", b"reply-to", b"mime-version", b"content-type"],
        )
    except Exception as exc:  # noqa: BLE001 - dkim raises its own error types and ValueError on bad keys
        raise PermanentSendError(f"DKIM signing failed: {exc}") from exc
    return signature + mime_bytes


def send(message: OutboundMessage, channel: Channel) -> DeliveryResult:
    config = config_of(channel)
    url = relay_url_for(config)
    if not url:
        raise PermanentSendError("no SMTP relay configured (THREADLINE_SMTP_RELAY_URL or the channel's relay_url)")
    relay = parse_relay(url, trusted=not config.relay_url)
    if not message.recipient_address:
        raise PermanentSendError("the contact has no email address")
    mime, message_id, envelope_from = build(message, channel, config)
    copied = [a.addr_spec for a in mime["Cc"].addresses] if "Cc" in mime else []
    recipients = list(dict.fromkeys(wire_address(r) for r in [message.recipient_address, *copied]))
    utf8 = needs_smtputf8([envelope_from, *recipients])
    policy = (email.policy.SMTPUTF8 if utf8 else mime.policy).clone(linesep="\r\n")
    try:
        data = mime.as_bytes(policy=policy)
    except (ValueError, UnicodeError, email.errors.HeaderDefect) as exc:
        raise PermanentSendError(_("This reply could not be written as an email: %(error)s") % {"error": exc}) from exc
    deliver(relay, dkim_sign(data, config), envelope_from, recipients, smtputf8=utf8)
    return DeliveryResult(provider_message_id=message_id)


__all__ = ["Relay", "build", "deliver", "dkim_sign", "parse_relay", "send"]
