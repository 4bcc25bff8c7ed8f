"""Replaying real .eml files (ours in legacy charsets, and CPython's own test data) through the edge and the
worker: each ends as a stored message with the right contact, conversation, visible text and attachments."""

from __future__ import annotations

import pytest

from threadline.channels.email import edge
from threadline.channels.email.testkit import FIXTURES, cpython_email_data, make_email_channel
from threadline.channels.models import InboundEvent
from threadline.conversations.models import Message


def deliver(channel, raw, *, envelope_from="sender@example.net", to="support@acme.test"):
    event, created = edge.store(channel, raw, transport="smtp", envelope_from=envelope_from, recipients=[to])
    assert created
    return event


def received(run_jobs, channel, name):
    deliver(channel, (FIXTURES / name).read_bytes())
    run_jobs()
    event = InboundEvent.objects.get()
    assert event.state == InboundEvent.State.PROCESSED, event.error
    return Message.objects.select_related("conversation__contact", "identity").get()


CASES = [
    # file, sender address, contact name, subject, visible text (exact), text that must be folded away, attachments
    ("he-windows-1255.eml", "dana.levi@example.co.il", "דנה לוי", "ההזמנה שלי לא הגיעה",
     "שלום, ההזמנה שלי עדיין לא הגיעה.\nאפשר לבדוק?\n\nתודה,\nדנה", "ההזמנה שלך נשלחה", ["חשבונית.pdf"]),
    ("he-iso-8859-8.eml", "noa.cohen@example.org.il", "נועה כהן", "החזר כספי",
     "שלום רב,\nלא קיבלתי החזר כספי עבור ההזמנה.", "ההחזר יבוצע", []),
    ("fa-windows-1256.eml", "sara@example.ir", "سارا احمدي", "مشکل رمز عبور",
     "سلام، رمز عبور من کار نمي\u200cکند.\nلطفا کمک کنيد.", "بازنشاني", []),
    ("th-tis-620.eml", "somchai@example.co.th", "สมชาย ใจดี", "สินค้ายังไม่ได้รับ",
     "สวัสดีครับ สินค้าที่สั่งไปยังไม่ได้รับครับ", "ส่งจาก iPhone", []),
    ("cs-iso-8859-2.eml", "jiri.novak@example.cz", "Jiří Novák", "Špatná částka na faktuře",
     "Dobrý den,\nfaktura má špatnou částku. Prosím o opravu.\n\nS pozdravem\nJiří Novák", "Posíláme fakturu",
     ["účtenka-říjen.txt"]),
    ("ja-iso-2022-jp.eml", "taro@example.jp", "山田 太郎", "注文について", "注文の状況を教えてください。",
     "Your order has shipped", []),
    ("mislabelled-ascii-is-utf8.eml", "yael@example.com", "Yael", "חשבון נחסם",
     "היי, החשבון שלי נחסם אחרי עדכון הסיסמה.", None, []),
    ("mislabelled-utf8-is-1256.eml", "reza@example.ir", "Reza", "وضعیت سفارش",
     "سلام، سفارش من هنوز ارسال نشده است. لطفا وضعيت سفارش شماره 1234 را بررسي کنيد. "
     "من دو هفته است که منتظر هستم و هيچ پاسخي دريافت نکرده\u200cام.", None, []),
    # format=flowed (RFC 3676): soft line breaks (a trailing space) rejoined, space-stuffing undone, the
    # signature separator "-- " kept apart; Apple Mail's DelSp=yes drops the space its client added
    ("thunderbird-flowed.eml", "jana.dvorakova@example.cz", "Jana Dvořáková", "Reklamace objednávky 2044",
     "Dobrý den,\n\nobjednávka 2044 dorazila poškozená: krabice byla promáčknutá a jeden z hrnků je prasklý. "
     "Fotky posílám v příloze dalšího e-mailu, pokud je potřebujete.\n\nFrom the carrier's note: the parcel was "
     "dropped.\n\nS pozdravem\nJana Dvořáková", "Jana Dvořáková, Brno", []),
    ("apple-mail-delsp.eml", "omar.haddad@example.com", "Omar Haddad", "Refund for order 3310",
     "Hi, I returned order 3310 two weeks ago and the refund has not arrived yet. The tracking number of the "
     "return is RR123456789IL.\n\nThanks,\nOmar", None, []),
    # Thunderbird bottom-posting: the quote (with our marker) on top, the new text under it
    ("thunderbird-bottom-post.eml", "martin.svoboda@example.cz", "Martin Svoboda", "Re: Order 1001 [#7]",
     "Thanks, but the tracking page still says “label created”.\nCan you check with the carrier?",
     "Your order 1001 ships tomorrow.", []),
]


@pytest.mark.parametrize(("name", "address", "contact", "subject", "visible", "folded", "files"), CASES,
                         ids=[c[0] for c in CASES])
def test_legacy_charset_fixture(admin, run_jobs, name, address, contact, subject, visible, folded, files):
    channel = make_email_channel(admin)
    message = received(run_jobs, channel, name)
    assert message.identity.kind == "email" and message.identity.address == address
    assert message.conversation.contact.name == contact
    assert message.conversation.subject == subject
    assert message.text == visible
    if folded:
        assert folded in message.metadata["email"]["folded"]
        assert folded not in message.text
    assert sorted(a.filename for a in message.attachments.all()) == sorted(files)
    assert message.metadata["threading"]["rule"] == "new_conversation"


def test_html_with_inline_image_is_sanitized_and_the_image_kept(admin, run_jobs):
    channel = make_email_channel(admin)
    message = received(run_jobs, channel, "html-inline-cid.eml")
    assert "<script" not in message.html and "onclick" not in message.html and "javascript:" not in message.html
    assert 'src="cid:shot1@example.com"' in message.html
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.content_type) == ("screenshot.png", "image/png")
    assert message.metadata["email"]["inline_images"] == {"shot1@example.com": attachment.sha256}
    assert message.text == "Here is the error:\n\nlink\n\nThanks, Ben"


def test_outlook_winmail_dat_is_unpacked(admin, run_jobs):
    channel = make_email_channel(admin)
    message = received(run_jobs, channel, "outlook-winmail.eml")
    files = {a.filename: (a.content_type, a.file.read()) for a in message.attachments.all()}
    assert files == {"report.txt": ("text/plain", b"quarterly numbers\n"), "photo.png": ("image/png", b"\x89PNG fake")}
    assert message.text == "Please find the report attached."


def test_malformed_message_is_stored_raw_and_flagged(admin, run_jobs):
    channel = make_email_channel(admin)
    raw = (FIXTURES / "malformed-no-from.eml").read_bytes()
    deliver(channel, raw, envelope_from="bounce-me@example.net")
    run_jobs()
    message = Message.objects.get()
    assert message.metadata["email"]["malformed"] is True
    assert message.metadata["needs_attention"]
    assert message.identity.address == "bounce-me@example.net"  # the envelope sender, as From is missing
    original = message.attachments.get(filename="original.eml")
    assert original.file.read() == raw


CPYTHON = [
    # file, expected sender, a phrase of the visible text, the attachments' names
    ("msg_01.txt", "bbb@ddd.com", "Do you like this message?", []),
    ("msg_02.txt", "ppp-request@zzz.org", "Send Ppp mailing list submissions", []),  # a MIME digest
    ("msg_07.txt", "barry@digicool.com", "This is the dingus fish.", ["dingusfish.gif"]),
    ("msg_16.txt", "postmaster@ucla.edu", "This report relates to a message you sent", []),  # a bounce of mail
    # we never sent: stored as a message, not lost
    ("msg_33.txt", "aperson@example.com", "part 1", []),  # multipart/signed, RFC 2231 parameters
    ("msg_45.txt", "foo@bar.baz", "This is the signed contents.", ["signature.asc"]),
]


@pytest.mark.parametrize(("name", "sender", "phrase", "files"), CPYTHON, ids=[c[0] for c in CPYTHON])
def test_cpython_test_data(admin, run_jobs, name, sender, phrase, files):
    path = cpython_email_data() / name
    if not path.exists():
        pytest.skip(f"{path} is not part of this Python installation")
    channel = make_email_channel(admin)
    deliver(channel, path.read_bytes())
    run_jobs()
    event = InboundEvent.objects.get()
    assert event.state == InboundEvent.State.PROCESSED, event.error
    messages = list(Message.objects.all())
    assert len(messages) == 1
    message = messages[0]
    assert message.identity.address == sender
    assert phrase in message.text
    assert sorted(a.filename for a in message.attachments.all()) == files
    assert message.conversation.contact.identities.get().address == sender


def test_every_cpython_sample_is_stored_or_answered(admin, run_jobs):
    """Every file of CPython's test_email/data: processed without an error, none lost."""
    folder = cpython_email_data()
    files = sorted(folder.glob("msg_*.txt"))
    if not files:
        pytest.skip("CPython's test_email data is not installed")
    channel = make_email_channel(admin)
    for path in files:
        edge.store(channel, path.read_bytes(), transport="smtp", envelope_from="x@example.net",
                   recipients=["support@acme.test"], key=f"file:{path.name}")
    run_jobs()
    states = dict(InboundEvent.objects.values_list("idempotency_key", "state"))
    assert states == {f"file:{p.name}": InboundEvent.State.PROCESSED for p in files}


def test_one_invalid_byte_in_a_utf8_body_is_replaced_not_a_reason_to_switch_charset(admin, run_jobs):
    """A stray windows-1252 byte (an apostrophe pasted from Word) in an otherwise valid UTF-8 body: the rest
    stays UTF-8 (charset detection alone reads the whole body as windows-1250: "arrivĂ©e")."""
    channel = make_email_channel(admin)
    message = received(run_jobs, channel, "utf8-one-bad-byte.eml")
    assert message.text == "Bonjour,\nma commande n\ufffdest toujours pas arrivée.\nMerci,\nRenée"
    assert "charset utf-8: 1 invalid byte replaced" in message.metadata["email"]["defects"]
