"""What an agent sees of an email: sanitized HTML, plain text, and the reply with quoted history and
signatures folded away (the folded part is kept beside it, and the raw message stays in the InboundEvent).

Folding, in order:
1. the "reply above this line" marker Threadline puts in its own mail (any of its languages);
2. a reply header as Gmail, Outlook, Apple Mail and Thunderbird write it in English, Hebrew, Persian, Thai
   and Czech ("On … wrote:", "בתאריך … מאת …:", "در تاریخ … نوشت:", "เมื่อ … เขียนว่า:", "… napsal(a):"),
   Outlook's "From:/Sent:" block and "-----Original Message-----" separators;
3. a generic rule: a line ending in ":" that names an address, followed by a `>` quoted block;
4. mail-parser-reply for the languages it knows (en, cs, de, fr, ...);
a reply written *under* the quote (Thunderbird's bottom-posting: header, `>` block, then the new text) has
the header and quote folded instead; then a signature ("-- " line, "Sent from my iPhone" in each language).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import nh3
from inscriptis import get_text

BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
MARKER_TEXT = {
    "en": "##- Please type your reply above this line -##",
    "he": "##- נא להקליד את התשובה מעל שורה זו -##",
    "fa": "##- لطفاً پاسخ خود را بالای این خط بنویسید -##",
    "th": "##- กรุณาพิมพ์คำตอบเหนือบรรทัดนี้ -##",
    "cs": "##- Odpověď prosím pište nad tento řádek -##",
}
MARKER = re.compile(r"^\W*##-.*-##\W*$")

# Words that end a reply header line ("… wrote:") in the languages we serve and their common clients.
WROTE = re.compile(
    r"(wrote|writes|sent|כתב|כתבה|כתב/ה|כתב\(ה\)|نوشت|نوشته|เขียนว่า|เขียน|napsal|napsala|napsal\(a\)|"
    r"schrieb|a écrit|escribió|scrisse|odesílatel\s.*napsal)\s*:?\s*$",
    re.IGNORECASE,
)
HEADER_STARTS = re.compile(
    r"^(on\s|am\s|le\s|el\s|dne\s|בתאריך|ב-|ב־|در\sتاریخ|در\s|เมื่อ|\d{1,2}[./]\s?\d{1,2}[./]|"
    r"\w{2,3}\s\d{1,2}\.\s\d{1,2}\.\s\d{4})",
    re.IGNORECASE,
)
OUTLOOK_FROM = re.compile(r"^\*?(from|מאת|از|فرستنده|จาก|od|von|de)\s*:\*?\s*\S", re.IGNORECASE)
OUTLOOK_NEXT = re.compile(
    r"^\*?(sent|date|to|subject|נשלח|תאריך|אל|נושא|ارسال\sشده|تاریخ|به|موضوع|ส่ง|วันที่|ถึง|เรื่อง|"
    r"odesláno|datum|komu|předmět|gesendet|an|betreff|envoyé|à|objet)\s*:",
    re.IGNORECASE,
)
SEPARATOR = re.compile(
    r"^\s*(-{3,}\s*(original message|הודעה מקורית|پیام اصلی|ข้อความต้นฉบับ|původní zpráva|"
    r"ursprüngliche nachricht|message d'origine|forwarded message|הודעה שהועברה)\s*-{3,}|_{20,})\s*$",
    re.IGNORECASE,
)
SIGNATURE_LINES = re.compile(
    r"^(sent from my \w+|sent from mail for windows|get outlook for \w+|נשלח מה-?\s?\w+ שלי|"
    r"ارسال شده از .+|ส่งจาก .+ ของฉัน|odesláno z (mého )?\w+|von meinem \w+ gesendet|envoyé de mon \w+)\s*$",
    re.IGNORECASE,
)
ADDRESS = re.compile(r"[^\s<>]+@[^\s<>]+")

ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) | {"font", "center"}
ALLOWED_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"dir", "lang", "title"},
    "font": {"color", "face", "size"},
    "td": {"align", "colspan", "rowspan", "valign", "width"},
    "img": {"alt", "height", "src", "width"},
    "a": {"href", "title"},
}


@dataclass(frozen=True)
class Folded:
    visible: str  # what is shown
    folded: str  # quoted history and signature, one click away
    rule: str  # which rule cut ("" when nothing was folded)


def sanitize_html(html: str) -> str:
    """HTML safe to show an agent: scripts, handlers, forms and remote tricks removed; `cid:` images kept."""
    if not html:
        return ""
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow", strip_comments=True,
    )


def html_to_text(html: str) -> str:
    if not html:
        return ""
    try:
        return get_text(html).strip()
    except Exception:  # noqa: BLE001 - inscriptis on hostile HTML; fall back to stripping every tag
        return nh3.clean(html, tags=set()).strip()


def _plain(line: str) -> str:
    return BIDI_MARKS.sub("", line).strip()


def _is_reply_header(lines: list[str], index: int) -> int:
    """How many lines form a reply header starting at `index` (0 when there is none)."""
    for span in (1, 2, 3):
        if index + span > len(lines):
            break
        joined = " ".join(_plain(x) for x in lines[index:index + span])
        if not joined.endswith((":", "):")) and not WROTE.search(joined):
            continue
        # A header wrapped over several lines must start like one; a single line may be any "… wrote:".
        starts = bool(HEADER_STARTS.search(_plain(lines[index])))
        if span > 1 and not starts:
            continue
        if WROTE.search(joined):
            return span
        if ADDRESS.search(joined) and joined.endswith(":") and _quoted_follows(lines, index + span):
            return span
    return 0


def _quoted_follows(lines: list[str], index: int) -> bool:
    for line in lines[index:index + 3]:
        if line.strip():
            return _plain(line).startswith(">")
    return False


def _cut(lines: list[str]) -> tuple[int, str] | None:
    for index, line in enumerate(lines):
        plain = _plain(line)
        if not plain:
            continue
        if MARKER.match(plain):
            return index, "reply_marker"
        if SEPARATOR.match(plain):
            return index, "original_message_separator"
        if OUTLOOK_FROM.match(plain) and any(OUTLOOK_NEXT.match(_plain(x)) for x in lines[index + 1:index + 5]):
            return index, "outlook_header_block"
        if _is_reply_header(lines, index):
            return index, "reply_header"
        if plain.startswith(">") and all(_plain(x).startswith(">") or not _plain(x) for x in lines[index:]):
            return index, "quoted_block"
    return None


def _strip_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    for index, line in enumerate(lines):
        if line.rstrip("\r") in ("-- ", "--") or SIGNATURE_LINES.match(_plain(line)):
            if index > 0 or len(lines) > 1:
                return lines[:index], lines[index:]
    return lines, []


def _bottom_posted(lines: list[str]) -> int | None:
    """Where the new text starts when it is written under the quote (Thunderbird's default, and anyone who
    bottom-posts): an optional reply header, then a `>` block, then unquoted text with no more quotes (an
    interleaved answer keeps its quotes and is shown whole). None when the text is not shaped like that."""
    index = 0
    while index < len(lines) and not _plain(lines[index]):
        index += 1
    index += _is_reply_header(lines, index) if index < len(lines) else 0
    start = index
    while index < len(lines) and (_plain(lines[index]).startswith(">") or not _plain(lines[index])):
        index += 1
    rest = lines[index:]
    if index == start or not any(_plain(x) for x in rest) or any(_plain(x).startswith(">") for x in rest):
        return None
    return index


def fold(text: str) -> Folded:
    """Split a reply from the history it quotes and its signature."""
    if not text:
        return Folded("", "", "")
    lines = text.replace("\r\n", "\n").split("\n")
    bottom = _bottom_posted(lines)
    if bottom is not None:
        head, signature = _strip_signature(lines[bottom:])
        if "\n".join(head).strip():  # never hide everything: a quote followed only by a signature falls through
            quote = "\n".join(lines[:bottom]).strip()
            folded = "\n\n".join(x for x in (quote, "\n".join(signature).strip()) if x)
            return Folded("\n".join(head).strip(), folded, "bottom_posted_quote")
    cut = _cut(lines)
    rule = ""
    head, tail = lines, []
    if cut is not None:
        head, tail = lines[:cut[0]], lines[cut[0]:]
        rule = cut[1]
        if rule == "reply_marker":  # the header line our own quoting put just above the marker
            while head and not head[-1].strip():
                head = head[:-1]
            if head and _is_reply_header(head, len(head) - 1):
                tail = head[-1:] + tail
                head = head[:-1]
    else:
        library = _library_fold(text)
        if library is not None:
            visible, folded = library
            return Folded(visible, folded, "mail_parser_reply")
    head, signature = _strip_signature(head)
    if signature:
        rule = rule or "signature"
        tail = signature + tail
    visible = "\n".join(head).strip()
    if not visible:  # never hide everything: a message that is only a quote is shown whole
        return Folded(text.strip(), "", "")
    return Folded(visible, "\n".join(tail).strip(), rule)


def _library_fold(text: str) -> tuple[str, str] | None:
    try:
        from mailparser_reply import EmailReplyParser

        replies = EmailReplyParser(languages=["en", "cs", "de", "fr", "es", "it", "nl", "pl"]).read(text).replies
    except Exception:  # noqa: BLE001 - the library on odd input
        return None
    if len(replies) < 2 or not replies[0].body.strip():
        return None
    visible = replies[0].body.strip()
    if visible == text.strip():
        return None
    rest = text.strip()[len(visible):].strip() if text.strip().startswith(visible) else ""
    return visible, rest


def marker(language: str) -> str:
    return MARKER_TEXT.get((language or "en")[:2], MARKER_TEXT["en"])


CID_SRC = re.compile(r"""(src\s*=\s*["'])cid:([^"']+)(["'])""", re.IGNORECASE)


def resolve_inline_images(html: str, inline: dict[str, str], url_for: Callable[[str], str | None]) -> str:
    """Point `cid:` image sources at the stored attachments, for display.

    `inline` is `metadata["email"]["inline_images"]` (Content-ID → sha256 of the attachment); `url_for(sha256)`
    gives the URL the workspace serves that attachment at (or None to leave the reference as it was).
    """

    def replace(match: re.Match[str]) -> str:
        digest = inline.get(match.group(2))
        url = url_for(digest) if digest else None
        return f"{match.group(1)}{url}{match.group(3)}" if url else match.group(0)

    return CID_SRC.sub(replace, html or "")
