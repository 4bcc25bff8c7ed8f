"""Property tests: whatever the headers and MIME structure, the SMTP handler answers clearly (250 after
storing, or a 4xx/5xx SMTP error) and every stored message is processed into a conversation, never lost."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threadline.channels.email import smtp_server
from threadline.channels.email.testkit import FIXTURES, make_email_channel
from threadline.channels.models import InboundEvent
from threadline.conversations.models import Message

CLEAR_ERROR = re.compile(r"^[45]\d\d [245]\.\d{1,3}\.\d{1,3} \S")
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
CHARSETS = st.sampled_from(["utf-8", "us-ascii", "iso-8859-1", "windows-1255", "iso-8859-8", "windows-1256",
                            "tis-620", "iso-8859-2", "iso-2022-jp", "x-bogus", "", "utf-7", "big5"])
ENCODINGS = st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus", ""])
HEADER_NAMES = st.sampled_from(["From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "In-Reply-To",
                                "References", "Date", "Auto-Submitted", "Precedence", "Content-Type",
                                "Content-Transfer-Encoding", "X-Random", "Sender", "List-Id"])
HEADER_VALUES = st.one_of(
    TEXT,
    st.sampled_from(["=?utf-8?B?16nXnNeV150=?=", "=?windows-1255?Q?=F9=EC=E5=ED?=", "=?bogus?X?abc?=",
                     "<a@b>", "<<<>>>", "Dana <dana@example.com>", "undisclosed-recipients:;", "@", "\"\" <>",
                     "Mon, 99 Foo 2026 25:61:61 +9999", "multipart/mixed; boundary=", "text/plain; charset=\"",
                     "auto-replied", "bulk"]),
    st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
)


def body_bytes(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset or "utf-8")
    except (LookupError, UnicodeEncodeError):
        return text.encode("utf-8")


@st.composite
def mime_part(draw, depth=0):
    if depth < 3 and draw(st.booleans()):
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "signed", "digest", "x-odd"]))
        boundary = draw(st.sampled_from(["b", "=_x", "", "a b", "--", "b" * 80]))
        children = draw(st.lists(mime_part(depth + 1), max_size=3))
        closed = draw(st.booleans())
        head = f"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\n".encode()
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + child + b"\r\n" for child in children)
        return head + body + (b"--" + boundary.encode() + b"--\r\n" if closed else b"")
    ctype = draw(st.sampled_from(["text/plain", "text/html", "image/png", "application/octet-stream",
                                  "message/rfc822", "message/delivery-status", "application/ms-tnef", "bogus"]))
    charset = draw(CHARSETS)
    encoding = draw(ENCODINGS)
    disposition = draw(st.sampled_from(["", "attachment; filename=\"a.txt\"", "inline",
                                        "attachment; filename*=utf-8''%D7%A9.pdf", "attachment; filename=\"x.exe\""]))
    text = draw(TEXT)
    head = f"Content-Type: {ctype}; charset={charset}\r\nContent-Transfer-Encoding: {encoding}\r\n"
    if disposition:
        head += f"Content-Disposition: {disposition}\r\n"
    if draw(st.booleans()):
        head += "Content-ID: <part@x>\r\n"
    return head.encode() + b"\r\n" + body_bytes(text, charset) + draw(st.binary(max_size=20))


@st.composite
def email_bytes(draw):
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=10))
    lines = [f"{name}: {value}".encode("utf-8", "surrogateescape") for name, value in headers
             if "\n" not in value and "\r" not in value]
    if draw(st.booleans()):
        lines.insert(0, b"From: Dana <dana@example.com>")
    if draw(st.booleans()):
        lines.append(b"MIME-Version: 1.0")
    return b"\r\n".join(lines) + b"\r\n" + draw(mime_part())


def check(raw: bytes, run_jobs) -> None:
    before = InboundEvent.objects.count()
    answer = smtp_server.deliver(raw, "sender@example.com", ["support@acme.test"])
    assert answer.startswith("250") or CLEAR_ERROR.match(answer), answer
    if not answer.startswith("250") or "(duplicate)" in answer:
        return
    assert InboundEvent.objects.count() == before + 1
    event = InboundEvent.objects.order_by("-id").first()
    run_jobs()
    event.refresh_from_db()
    assert event.state == InboundEvent.State.PROCESSED, event.error
    assert Message.objects.filter(channel=event.channel).exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(raw=email_bytes())
def test_any_headers_and_mime_structure_end_stored_or_refused(admin, run_jobs, raw):
    channel_for(admin)
    check(raw, run_jobs)


ORIGINALS = sorted(FIXTURES.glob("*.eml"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(index=st.integers(0, len(ORIGINALS) - 1), cut=st.integers(0, 4000), noise=st.binary(max_size=64),
       at=st.integers(0, 4000))
def test_byte_level_damage_to_real_mail(admin, run_jobs, index, cut, noise, at):
    raw = ORIGINALS[index].read_bytes()
    damaged = (raw[:at] + noise + raw[at:])[: max(cut, 1)]
    channel_for(admin)
    check(damaged, run_jobs)


def channel_for(admin):
    from threadline.channels.models import Channel

    if not Channel.objects.filter(kind="email", workspace=admin.workspace).exists():
        make_email_channel(admin)
