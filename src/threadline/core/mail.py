"""Mail the installation itself sends (invitations and password resets), through the operator's SMTP server.

The server is `THREADLINE_SYSTEM_MAIL_URL`, else `THREADLINE_SMTP_RELAY_URL`: `smtp://user:pass@host:587`
(STARTTLS when the server offers it; `?starttls=required` insists, `?starttls=never` skips), or
`smtps://host:465` (implicit TLS); `?verify=false` accepts a self-signed certificate (test servers only).
The sender is `THREADLINE_SYSTEM_MAIL_FROM` (default `threadline@<PUBLIC_URL host>`).

`send` answers whether the server accepted the message. Without a server, or when it fails, the caller
shows the link another way (to the admin on screen, on the command line): a link is never lost. The
message body carries a secret link, so neither it nor the server's answer to it is ever logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlparse

from django.conf import settings

logger = logging.getLogger(__name__)

TIMEOUT = 15


def server_url() -> str:
    return str(settings.THREADLINE.get("SYSTEM_MAIL_URL") or "")


def configured() -> bool:
    return urlparse(server_url()).scheme in ("smtp", "smtps")


def sender() -> str:
    configured_from = settings.THREADLINE.get("SYSTEM_MAIL_FROM")
    return str(configured_from or f"threadline@{urlparse(settings.PUBLIC_URL).hostname or 'localhost'}")


def _client(url: str) -> smtplib.SMTP:
    parsed = urlparse(url)
    query = {k: v[-1].lower() for k, v in parse_qs(parsed.query).items()}
    context = ssl.create_default_context()
    if query.get("verify", "true") in ("false", "0", "no"):
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    host = parsed.hostname or "localhost"
    if parsed.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, parsed.port or 465, timeout=TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(host, parsed.port or 25, timeout=TIMEOUT)
        client.ehlo()
        starttls = query.get("starttls", "auto")
        if starttls != "never" and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        elif starttls == "required":
            client.close()
            raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
    if parsed.username:
        client.login(unquote(parsed.username), unquote(parsed.password or ""))
    return client


def send(to: str, subject: str, text: str, html: str | None = None) -> bool:
    """Send one plain-text message to `to` (with `html` as its alternative part when given); True when the
    server accepted it, False when there is no server or it failed (logged without the message)."""
    if not configured():
        return False
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender(), to, subject
    message["Date"], message["Message-ID"] = formatdate(localtime=False), make_msgid(domain=sender().rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    try:
        with _client(server_url()) as client:
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("system mail to %s was not sent: %s", to, type(exc).__name__)
        return False
    return True
