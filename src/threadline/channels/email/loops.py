"""Mail that must never be answered automatically: auto-replies, list and bulk mail, bounces, loops.

`auto_reply_reason` recognises automatic mail from its headers (RFC 3834 Auto-Submitted, X-Autoreply,
X-Autorespond, Precedence bulk/junk/list, X-Auto-Response-Suppress, List-Id, a null envelope sender) and
from vacation subjects in the languages we serve. `bounce_of` recognises delivery failures: RFC 3464
multipart/report DSNs, and the non-standard formats flufl.bounce knows; it finds the Message-ID of the
message that failed in the returned headers, or from the VERP address the bounce was sent to.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.message import Message

from threadline.channels.email.parsing import header_text, message_ids

VACATION_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[\s-]*(reply|response|antwort)|autoreply|auto:|out of (the )?office|"
    r"abwesenheitsnotiz|réponse automatique|absence|vacation|on vacation|"
    r"מענה אוטומטי|תשובה אוטומטית|אני לא במשרד|מחוץ למשרד|"
    r"پاسخ خودکار|پاسخ خودکار:|خارج از دفتر|"
    r"ตอบกลับอัตโนมัติ|ไม่อยู่ที่สำนักงาน|"
    r"automatická odpověď|nepřítomnost|mimo kancelář)",
    re.IGNORECASE,
)
BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailer_daemon|mdaemon|ndr)@", re.IGNORECASE)
FAILURE_SUBJECT = re.compile(
    r"undeliver|delivery (status|failure|failed|notification)|returned mail|mail error|failure notice|"
    r"could not be delivered|delivery has failed|permanent delivery failure|user unknown|mail delivery|"
    r"nondeliverable|non-delivery|returning message to sender|nicht zustellbar|nedoručitelné|"
    r"לא נמסר|تحویل نشد|ส่งไม่สำเร็จ",
    re.IGNORECASE,
)
logging.getLogger("flufl.bounce").setLevel(logging.WARNING)  # it logs every detector it tries at INFO


def auto_reply_reason(message: Message | None, subject: str, envelope_sender: str | None) -> str:
    """Why this mail is automatic ("" when it looks written by a person)."""
    if message is not None:
        auto = header_text(message, "Auto-Submitted").lower()
        if auto and auto != "no":
            return f"Auto-Submitted: {auto}"
        for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Response-Suppress"):
            if header_text(message, name):
                return name
        precedence = header_text(message, "Precedence").lower()
        if precedence in ("bulk", "junk", "list", "auto_reply"):
            return f"Precedence: {precedence}"
        if header_text(message, "List-Id") or header_text(message, "List-Unsubscribe"):
            return "mailing list"
        if header_text(message, "X-Loop"):
            return "X-Loop"
    if envelope_sender is not None and envelope_sender.strip() in ("", "<>"):
        return "null envelope sender"
    if VACATION_SUBJECT.match(subject or ""):
        return "vacation subject"
    return ""


@dataclass(frozen=True)
class Bounce:
    original_message_ids: tuple[str, ...]  # the message(s) that could not be delivered
    recipients: tuple[str, ...]
    permanent: bool
    reason: str


def _dsn_fields(message: Message) -> tuple[list[str], str, bool]:
    """Recipients, a reason, and whether it is permanent, from the message/delivery-status parts."""
    recipients: list[str] = []
    reasons: list[str] = []
    permanent = False
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else []
        for block in blocks:
            action = str(block.get("Action", "")).lower().strip()
            status = str(block.get("Status", "")).strip()
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            if recipient:
                recipients.append(recipient.split(";")[-1].strip().strip("<>").lower())
            if action == "failed" or status.startswith("5"):
                permanent = True
            diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
            reason = " ".join(x for x in (status, diagnostic.split(";", 1)[-1].strip()) if x)
            if reason:
                reasons.append(reason)
    return recipients, "; ".join(reasons)[:1000], permanent


def _returned_message_ids(message: Message) -> list[str]:
    found: list[str] = []
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                found += message_ids(header_text(inner, "Message-ID"))
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers", "text/plain") and part is not message:
            try:
                text = part.get_content() if hasattr(part, "get_content") else str(part.get_payload())
            except Exception:  # noqa: BLE001
                continue
            for line in str(text).splitlines():
                if line.lower().startswith("message-id:"):
                    found += message_ids(line.split(":", 1)[1])
    return list(dict.fromkeys(found))


def bounce_of(message: Message | None, envelope_sender: str | None, verp_message_id: str = "") -> Bounce | None:
    """The delivery failure this message reports, or None when it is not a bounce."""
    if message is None:
        return None
    is_report = message.get_content_type() == "multipart/report"
    sender = header_text(message, "From")
    null_sender = (envelope_sender is not None and envelope_sender.strip() in ("", "<>")) or (
        header_text(message, "Return-Path").strip() == "<>")
    subject = header_text(message, "Subject")
    if not (is_report or null_sender or BOUNCE_SENDERS.search(_address(sender)) or verp_message_id
            or FAILURE_SUBJECT.search(subject)):
        return None
    recipients, reason, permanent = _dsn_fields(message) if is_report else ([], "", False)
    if not recipients:
        try:
            from flufl.bounce import all_failures

            temporary, permanent_set = all_failures(message)
        except Exception:  # noqa: BLE001 - a detector choking on odd mail
            temporary, permanent_set = frozenset(), frozenset()
        recipients = [a.decode("utf-8", "replace").lower() for a in sorted(permanent_set | temporary)]
        permanent = permanent or bool(permanent_set)
    originals = _returned_message_ids(message)
    if verp_message_id and verp_message_id not in originals:
        originals.insert(0, verp_message_id)
    if not recipients and not originals:
        return None
    if is_report and not permanent and not _any_failed(message):
        return None  # a "delayed" or "delivered" DSN: not a failure
    if not reason:
        reason = f"{subject}: {', '.join(recipients)}" if recipients else subject
    return Bounce(tuple(originals), tuple(recipients), permanent or not is_report, reason[:1000])


def _any_failed(message: Message) -> bool:
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            for block in payload if isinstance(payload, list) else []:
                if str(block.get("Action", "")).lower().strip() == "failed":
                    return True
    return False


def _address(value: str) -> str:
    match = re.search(r"[^\s<>\"]+@[^\s<>\"]+", value or "")
    return match.group(0) if match else ""
