"""Quote and signature folding as the common clients write replies, in each language we serve."""

from __future__ import annotations

import pytest

from threadline.channels.email.display import fold, resolve_inline_images, sanitize_html

REPLY = "Thanks, that fixed it."
CASES = {
    "gmail-en": "On Mon, Jan 5, 2026 at 10:00 AM Acme Support <support@acme.test> wrote:",
    "gmail-en-wrapped": "On Mon, Jan 5, 2026 at 10:00 AM Acme Support Team <\nsupport@acme.test> wrote:",
    "gmail-he": "\u202bבתאריך יום ב׳, 5 בינו׳ 2026 ב-10:00 מאת \u202aAcme Support\u202c\u200f <\u202asupport@acme.test\u202c\u200f>:\u202c",
    "gmail-fa": "\u202bدر تاریخ دوشنبه ۵ ژانویهٔ ۲۰۲۶ ساعت ۱۰:۰۰ Acme Support <support@acme.test> نوشت:\u202c",
    "gmail-th": "เมื่อ จ. 5 ม.ค. 2026 เวลา 10:00 Acme Support <support@acme.test> เขียนว่า:",
    "gmail-cs": "po 5. 1. 2026 v 10:00 odesílatel Acme Support <support@acme.test> napsal:",
    "apple-en": "On Jan 5, 2026, at 10:00, Acme Support <support@acme.test> wrote:",
    "apple-he": "\u200fב-5 בינו׳ 2026, בשעה 10:00, \u200fAcme Support \u200f<support@acme.test> כתב/ה:",
    "apple-cs": "5. 1. 2026 v 10:00, Acme Support <support@acme.test>:",
    "thunderbird-en": "On 1/5/26 10:00, Acme Support wrote:",
    "thunderbird-cs": "Dne 05. 01. 26 v 10:00 Acme Support napsal(a):",
    "thunderbird-he": "בתאריך 05/01/2026 10:00, Acme Support כתב:",
    "outlook-en": "From: Acme Support <support@acme.test>\nSent: Monday, January 5, 2026 10:00 AM\nTo: Dana\nSubject: Order",
    "outlook-he": "מאת: Acme Support <support@acme.test>\nנשלח: יום שני 5 ינואר 2026 10:00\nאל: Dana\nנושא: הזמנה",
    "outlook-fa": "از: Acme Support <support@acme.test>\nارسال شده: دوشنبه ۵ ژانویه ۲۰۲۶\nبه: Dana\nموضوع: سفارش",
    "outlook-th": "จาก: Acme Support <support@acme.test>\nส่ง: 5 มกราคม 2026 10:00\nถึง: Dana\nเรื่อง: คำสั่งซื้อ",
    "outlook-cs": "Od: Acme Support <support@acme.test>\nOdesláno: pondělí 5. ledna 2026 10:00\nKomu: Dana\nPředmět: Objednávka",
    "outlook-separator": "-----Original Message-----\nFrom: support@acme.test",
    "outlook-underscores": "________________________________\nFrom: Acme Support",
    "threadline-marker": "##- Please type your reply above this line -##",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reply_header_is_folded(name):
    text = f"{REPLY}\n\n{CASES[name]}\n\n> Did you try restarting?\n> Acme Support\n"
    folded = fold(text)
    assert folded.visible == REPLY, name
    assert "Did you try restarting?" in folded.folded


@pytest.mark.parametrize("signature", ["-- \nDana Levi\nAcme Corp", "Sent from my iPhone", "נשלח מה-iPhone שלי",
                                       "ส่งจาก iPhone ของฉัน", "Odesláno z iPhonu"])
def test_signatures_are_folded(signature):
    folded = fold(f"{REPLY}\n\n{signature}")
    assert folded.visible == REPLY
    assert folded.rule == "signature"


def test_nothing_to_fold_and_a_bare_quote_stays_visible():
    assert fold("Just one line.\nAnd another: with a colon.").folded == ""
    only_quote = "> quoted only\n> nothing new"
    assert fold(only_quote).visible == only_quote


def test_a_sentence_ending_in_wrote_inside_the_reply_is_not_a_header():
    text = "My colleague wrote a long report about this.\nPlease read it.\n\nOn Mon, Acme <a@acme.test> wrote:\n> x"
    assert fold(text).visible == "My colleague wrote a long report about this.\nPlease read it."


BOTTOM_POSTED = ["gmail-en", "gmail-he", "gmail-fa", "gmail-th", "gmail-cs", "apple-en", "apple-he", "apple-cs",
                 "thunderbird-en", "thunderbird-cs", "thunderbird-he"]


@pytest.mark.parametrize("name", BOTTOM_POSTED)
def test_a_bottom_posted_reply_folds_the_quote_above_it(name):
    """Thunderbird style (and anyone who answers under the quote): the new text is below the history."""
    text = f"{CASES[name]}\n> Did you try restarting?\n> Acme Support\n\n{REPLY}\n\n-- \nDana Levi\n"
    folded = fold(text)
    assert folded.visible == REPLY, name
    assert folded.rule == "bottom_posted_quote"
    assert "Did you try restarting?" in folded.folded and "Dana Levi" in folded.folded


def test_a_bottom_posted_reply_under_a_quote_without_a_header_and_under_our_quoted_marker():
    bare = fold("> Did you try restarting?\n>\n> Acme Support\n\nYes, and it still crashes.\nAny other idea?")
    assert bare.visible == "Yes, and it still crashes.\nAny other idea?"
    ours = fold("On 1/5/26 10:00, Acme Support wrote:\n> ##- Please type your reply above this line -##\n>\n"
                "> It ships tomorrow.\n\nIt did not. Where is it?")
    assert ours.visible == "It did not. Where is it?"
    assert "It ships tomorrow." in ours.folded


def test_an_interleaved_reply_is_shown_whole():
    text = "On 1/5/26 10:00, Acme Support wrote:\n> Which model?\nThe X200.\n> Which colour?\nBlue."
    assert fold(text).visible == text


def test_sanitize_and_inline_images():
    html = sanitize_html('<img src="cid:logo@x" onerror="x()"><a href="javascript:alert(1)">a</a><script>x</script>')
    assert "onerror" not in html and "javascript" not in html and "<script" not in html
    resolved = resolve_inline_images(html, {"logo@x": "abc"}, lambda digest: f"/files/{digest}")
    assert 'src="/files/abc"' in resolved
    assert resolve_inline_images(html, {}, lambda digest: "x") == html
