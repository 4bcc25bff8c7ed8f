"""Turning raw RFC 5322 bytes into what Threadline needs, with the stdlib `email` package (`policy.default`,
each header value parsed once: `core.mime_policy`).

Never raises on bad input: every problem becomes an entry in `ParsedEmail.defects`, and a message that cannot
be read at all comes back with `malformed=True` so it is stored raw and flagged for an agent.

Charsets: each text part is decoded with its declared charset when the bytes are valid in it, or valid but
for a few damaged bytes (replaced by U+FFFD, recorded as a defect: one stray byte never switches the whole
body to another charset); a part whose bytes are not (an unknown or wrong label, 8-bit text labelled
us-ascii, UTF-8 labelled latin-1) is decoded as UTF-8 when valid, else with the charset charset-normalizer
detects. Encoded words (RFC 2047) and RFC 2231
filenames are decoded by the stdlib; raw 8-bit headers are decoded the same way as bodies.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import mimetypes
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from typing import NamedTuple

from charset_normalizer import from_bytes

from threadline.channels.email.flowed import unflow
from threadline.core.mime_policy import POLICY

MAX_PARTS = 500  # a bomb of nested parts is cut here (and flagged)
MAX_DEPTH = 20
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
SERIOUS_DEFECTS = {
    "CloseBoundaryNotFoundDefect", "StartBoundaryNotFoundDefect", "MissingHeaderBodySeparatorDefect",
    "InvalidBase64CharactersDefect", "InvalidBase64PaddingDefect", "InvalidMultipartContentTransferEncodingDefect",
    "MultipartInvariantViolationDefect",
}
LATIN_LABELS = {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252", "cp1252", ""}


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""  # without angle brackets
    inline: bool = False


@dataclass
class ParsedEmail:
    message_id: str = ""  # "<id@host>" or ""
    from_address: str = ""
    from_name: str = ""
    reply_to: list[tuple[str, str]] = field(default_factory=list)
    to: list[tuple[str, str]] = field(default_factory=list)  # (name, address)
    cc: list[tuple[str, str]] = field(default_factory=list)
    subject: str = ""
    date: dt.datetime | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    malformed: bool = False
    message: Message | None = None  # the parsed tree, for loop and bounce detection

    def header(self, name: str) -> str:
        if self.message is None:
            return ""
        return header_text(self.message, name)


# ── decoding ─────────────────────────────────────────────────────────────────────────────────────────
class Decoded(NamedTuple):
    text: str
    charset: str  # the charset used
    replaced: int = 0  # invalid bytes replaced by U+FFFD (the declared charset was right, the bytes damaged)


def decode_bytes(data: bytes, declared: str | None) -> Decoded:
    """Text for `data` and the charset used: the declared one when valid (or valid but for a few damaged
    bytes, which are replaced), else UTF-8, else detected.

    NUL characters are dropped (PostgreSQL text cannot hold them, and no mail text needs them).
    """
    decoded = _decode_bytes(data, declared)
    return decoded._replace(text=decoded.text.replace("\x00", ""))


def _decode_bytes(data: bytes, declared: str | None) -> Decoded:
    label = (declared or "").strip().lower()
    if label and label not in LATIN_LABELS:
        try:
            return Decoded(data.decode(_codec(label)), label)
        except (LookupError, UnicodeDecodeError):
            pass
        damaged = _decode_damaged(data, _codec(label))
        if damaged is not None:
            return Decoded(damaged[0], label, damaged[1])
    if label in LATIN_LABELS and _is_ascii(data):
        return Decoded(data.decode("ascii"), label or "us-ascii")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if label in {"iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}:
        guess = _detect(data)
        # Latin-1 decodes any bytes: trust the label unless detection finds a clearly other script.
        if guess and guess[1] not in {"cp1252", "latin_1", "iso8859_15"} and _non_latin_script(guess[0]):
            return Decoded(*guess)
        return Decoded(data.decode("cp1252" if label in {"windows-1252", "cp1252"} else "latin-1", "replace"), label)
    guess = _detect(data)
    if guess:
        return Decoded(*guess)
    return Decoded(data.decode("utf-8", "replace"), "utf-8")


def _decode_damaged(data: bytes, codec: str) -> tuple[str, int] | None:
    """`data` in `codec` with its few invalid bytes replaced by U+FFFD, and how many were, when the charset
    is right but the bytes damaged (a stray windows-1252 byte pasted into UTF-8); None when the bytes do
    not look like `codec`: it must read at least twice as many non-ASCII characters as it fails on (a wrong
    label, windows-1256 text called UTF-8, fails on nearly every non-ASCII byte).
    """
    try:
        text = data.decode(codec, "replace")
        bad = text.count("\ufffd") - data.decode(codec, "ignore").count("\ufffd")  # not the literal ones
    except LookupError:
        return None
    valid = sum(1 for c in text if ord(c) > 0x7F) - text.count("\ufffd")
    return (text, bad) if 0 < bad and bad * 2 <= valid else None


def _codec(label: str) -> str:
    aliases = {"tis-620": "tis_620", "x-mac-hebrew": "mac_roman", "iso-8859-8-i": "iso8859_8",
               "iso-8859-8-e": "iso8859_8", "ks_c_5601-1987": "cp949", "gb2312": "gb18030", "windows-874": "cp874"}
    return aliases.get(label, label)


def _is_ascii(data: bytes) -> bool:
    try:
        data.decode("ascii")
    except UnicodeDecodeError:
        return False
    return True


def _detect(data: bytes) -> tuple[str, str] | None:
    best = from_bytes(data).best()
    if best is None or (best.encoding.startswith(("utf_16", "utf_32")) and not best.bom):
        return None
    return str(best), best.encoding


def _non_latin_script(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(1 for c in letters if ord(c) > 0x24F) / len(letters) > 0.5


def _fix_header_string(value: str) -> str:
    """A header the parser decoded with surrogate escapes (raw 8-bit bytes): decode those bytes properly."""
    if not any(0xDC80 <= ord(c) <= 0xDCFF for c in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    return decode_bytes(raw, None)[0]


def header_text(message: Message, name: str) -> str:
    """The decoded value of header `name` ("" when absent or unreadable)."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a broken header must not stop parsing
        return ""
    if value is None:
        return ""
    try:
        text = str(value)
    except Exception:  # noqa: BLE001
        return ""
    return _fix_header_string(" ".join(text.split())).replace("\x00", "")


def addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs of an address header; unreadable entries are skipped."""
    found: list[tuple[str, str]] = []
    try:
        values = message.get_all(name) or []
    except Exception:  # noqa: BLE001
        return found
    for value in values:
        try:
            parsed = getattr(value, "addresses", None)
            pairs = ([(a.display_name, a.addr_spec) for a in parsed] if parsed is not None
                     else email.utils.getaddresses([str(value)]))
        except Exception:  # noqa: BLE001 - fall back to the lenient parser
            pairs = email.utils.getaddresses([_fix_header_string(str(value))])
        for display, address in pairs:
            # A raw UTF-8 address (RFC 6532, sent over SMTPUTF8) arrives as surrogate escapes: decode it.
            address = _fix_header_string(address or "").strip().strip("<>").lower()
            if "@" in address and " " not in address and len(address) <= 320:
                found.append((_fix_header_string(display or "").replace("\x00", "").strip()[:300], address))
    return found


def message_ids(value: str) -> list[str]:
    """The `<id>` tokens of a Message-ID, In-Reply-To or References value, in order, without duplicates."""
    seen: list[str] = []
    for token in MESSAGE_ID.findall(value or ""):
        if token not in seen and len(token) <= 250:
            seen.append(token)
    if not seen and value and "@" in value and " " not in value.strip() and len(value.strip()) <= 248:
        seen.append(f"<{value.strip().strip('<>')}>")  # some clients omit the brackets
    return seen


def _date(message: Message) -> dt.datetime | None:
    raw = header_text(message, "Date")
    if not raw:
        return None
    try:
        value = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if value is None or value.tzinfo is None:
        return None
    return value


# ── the body ─────────────────────────────────────────────────────────────────────────────────────────
def _part_text(part: Message, parsed: ParsedEmail) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:  # noqa: BLE001
        parsed.defects.append(f"undecodable part: {type(exc).__name__}")
        return ""
    if payload is None:
        inner = part.get_payload()
        return inner.replace("\x00", "") if isinstance(inner, str) else ""
    if not isinstance(payload, bytes):
        return ""
    try:
        declared = part.get_content_charset()
    except Exception:  # noqa: BLE001
        declared = None
    text, used, replaced = decode_bytes(payload, declared)
    if declared and used != declared.lower():
        parsed.defects.append(f"charset {declared} relabelled as {used}")
    if replaced:
        parsed.defects.append(f"charset {used}: {replaced} invalid byte{'s' if replaced > 1 else ''} replaced")
    if part.get_content_type() == "text/plain" and str(part.get_param("format") or "").lower() == "flowed":
        text = unflow(text, delsp=str(part.get_param("delsp") or "").lower() == "yes")
    return text


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    if not name:
        try:
            name = part.get_param("name")
        except Exception:  # noqa: BLE001
            name = None
        if isinstance(name, tuple):
            name = email.utils.collapse_rfc2231_value(name)
    return _fix_header_string(str(name or "")).replace("\x00", "").strip()


def _walk(part: Message, parsed: ParsedEmail, depth: int, counter: list[int],
          texts: list[str], htmls: list[str]) -> None:
    counter[0] += 1
    if counter[0] > MAX_PARTS or depth > MAX_DEPTH:
        if "too many MIME parts" not in parsed.defects:
            parsed.defects.append("too many MIME parts")
        return
    try:
        ctype = part.get_content_type()
    except Exception:  # noqa: BLE001
        ctype = "text/plain"
    if part.is_multipart():
        payload = part.get_payload()
        children = payload if isinstance(payload, list) else []
        if ctype == "multipart/alternative":
            _walk_alternative(children, parsed, depth, counter, texts, htmls)
            return
        for child in children:
            _walk(child, parsed, depth + 1, counter, texts, htmls)
        return
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part)
    content_id = header_text(part, "Content-ID").strip().strip("<>")
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not (filename and disposition):
        body = _part_text(part, parsed)
        (htmls if ctype == "text/html" else texts).append(body)
        return
    if ctype == "message/rfc822" and disposition != "attachment":
        disposition = "attachment"
    try:
        content = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        content = None
    if content is None:
        inner = part.get_payload()
        if isinstance(inner, list):  # message/rfc822: keep the embedded message as a file
            content = b"".join(m.as_bytes() for m in inner if isinstance(m, Message))
        else:
            content = str(inner or "").encode("utf-8", "surrogateescape")
    if ctype == "application/ms-tnef" or filename.lower() == "winmail.dat":
        unpacked = unpack_tnef(content, parsed)
        if unpacked:
            parsed.attachments.extend(unpacked)
            return
    if not filename:
        extension = {"message/rfc822": ".eml", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif",
                     "text/calendar": ".ics", "application/pdf": ".pdf"}.get(ctype, ".bin")
        filename = f"{content_id.split('@')[0] or 'attachment'}{extension}"
    parsed.attachments.append(ParsedAttachment(
        filename=filename, content_type=ctype, content=content, content_id=content_id,
        inline=bool(content_id) and disposition != "attachment",
    ))


def _walk_alternative(children: list[Message], parsed: ParsedEmail, depth: int, counter: list[int],
                      texts: list[str], htmls: list[str]) -> None:
    """Of the alternatives take one text and one HTML (the last, the richest, of each), plus inline parts."""
    sub_texts: list[str] = []
    sub_htmls: list[str] = []
    for child in children:
        _walk(child, parsed, depth + 1, counter, sub_texts, sub_htmls)
    if sub_texts:
        texts.append(sub_texts[-1])
    if sub_htmls:
        htmls.append(sub_htmls[-1])


def unpack_tnef(content: bytes, parsed: ParsedEmail) -> list[ParsedAttachment]:
    """The files inside an Outlook winmail.dat (tnefparse); [] when it cannot be read (kept as is then)."""
    try:
        from tnefparse import TNEF

        tnef = TNEF(content)
    except Exception as exc:  # noqa: BLE001
        parsed.defects.append(f"winmail.dat not readable: {type(exc).__name__}")
        return []
    files = []
    for item in tnef.attachments:
        try:
            name = item.long_filename() or item.name or "attachment"
            if isinstance(name, bytes):
                name = name.decode("utf-8", "replace")
            data = item.data or b""
        except Exception:  # noqa: BLE001
            continue
        filename = str(name).replace("\x00", "").strip() or "attachment"
        files.append(ParsedAttachment(filename=filename, content=bytes(data),
                                      content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream"))
    return files


# ── entry point ──────────────────────────────────────────────────────────────────────────────────────
def parse(raw: bytes) -> ParsedEmail:
    parsed = ParsedEmail()
    try:
        message = email.message_from_bytes(raw, policy=POLICY)
    except Exception as exc:  # noqa: BLE001 - the stdlib parser is lenient, but never trust that
        parsed.malformed = True
        parsed.defects.append(f"unparseable: {type(exc).__name__}")
        parsed.text = raw.decode("utf-8", "replace").replace("\x00", "")[:100_000]
        return parsed
    parsed.message = message
    try:
        _fill(parsed, message)
    except Exception as exc:  # noqa: BLE001 - keep what was read; flag the rest
        parsed.malformed = True
        parsed.defects.append(f"unreadable structure: {type(exc).__name__}: {exc}"[:300])
    if not parsed.from_address:
        parsed.defects.append("no usable From address")
        parsed.malformed = True
    if SERIOUS_DEFECTS & set(parsed.defects):
        parsed.malformed = True
    return parsed


def _fill(parsed: ParsedEmail, message: EmailMessage | Message) -> None:
    parsed.defects.extend(type(d).__name__ for d in (message.defects or [])[:20])
    ids = message_ids(header_text(message, "Message-ID"))
    parsed.message_id = ids[0] if ids else ""
    senders = addresses(message, "From") or addresses(message, "Sender")
    if senders:
        parsed.from_name, parsed.from_address = senders[0]
    parsed.reply_to = addresses(message, "Reply-To")
    parsed.to = addresses(message, "To")
    parsed.cc = addresses(message, "Cc")
    parsed.subject = header_text(message, "Subject")[:500]
    parsed.date = _date(message)
    parsed.in_reply_to = message_ids(header_text(message, "In-Reply-To"))
    parsed.references = message_ids(header_text(message, "References"))
    texts: list[str] = []
    htmls: list[str] = []
    _walk(message, parsed, 0, [0], texts, htmls)
    parsed.text = "\n\n".join(t for t in texts if t.strip())
    parsed.html = "\n".join(h for h in htmls if h.strip())
    if not message.is_multipart() and not texts and not htmls and not parsed.attachments:
        parsed.defects.append("empty body")
