"""The judgement table (issue 15): real-looking public posts in en/he/fa/th/cs with the category, decision and
reasons each must get, from the built-in word lists alone (no provider, no database)."""

from __future__ import annotations

import pytest
from django.utils import translation

from threadline.triage.engine import triage_post
from threadline.triage.policy import Policy
from threadline.triage.reasons import Reason, reason_payload, render_reasons
from threadline.triage.verdict import PublicPost


def post(text: str, language: str | None = "en", *, reach: int | None = 500, known: bool = False) -> PublicPost:
    return PublicPost(workspace_id=1, text=text, language=language, channel_kind="facebook", author_handle="someone",
                      author_reach=reach, known_customer=known, is_reply=False)


# text, language, category, decision, the reason codes in order, topics that must be among the verdict's
TABLE = [
    ("@acme my order #1234 never arrived, this is the third time!!", "en", "complaint", "move_private",
     ["complaint", "personal_data"], {"order", "delivery"}),
    ("@acme how do I change my delivery address?", "en", "question", "answer_public",
     ["question", "public_answer"], {"delivery"}),
    ("Thank you @acme, the support team was amazing!", "en", "praise", "answer_public", ["praise", "thanks"], set()),
    ("thanks", "en", "praise", "do_not_answer", ["praise", "thanks_not_needed"], set()),
    ("WIN a FREE iPhone!!! click here http://bit.ly/xyz", "en", "spam", "hide", ["spam_link"], set()),
    ("Great giveaway, follow me and check my page www.cheap-followers.top", "en", "spam", "hide", ["spam_link"], set()),
    ("@acme you are all idiots", "en", "abuse", "hide", ["abuse"], set()),
    ("lol what a joke, clowns", "en", "abuse", "do_not_answer", ["troll"], set()),
    ("tagging @bob", "en", "noise", "do_not_answer", ["noise"], set()),
    ("the app is not working again, worst service ever", "en", "complaint", "answer_public",
     ["complaint", "public_ack"], set()),
    ("I was charged twice for my subscription, email me at jan.novak@example.com", "en", "complaint", "move_private",
     ["complaint", "personal_data"], {"billing"}),
    ("my fucking package is still not here, third time", "en", "complaint", "move_private",
     ["complaint", "strong_language", "account_topic"], {"delivery"}),
    # Hebrew
    ("@acme ההזמנה שלי מספר 1234 לא הגיעה, זו הפעם השלישית!!", "he", "complaint", "move_private",
     ["complaint", "personal_data"], {"order", "delivery"}),
    ("איך משנים את כתובת המשלוח?", "he", "question", "answer_public", ["question", "public_answer"], {"delivery"}),
    ("תודה רבה, שירות מעולה!", "he", "praise", "answer_public", ["praise", "thanks"], set()),
    ("הגרלה! לחצו כאן לקבל אייפון חינם www.win-free.xyz", "he", "spam", "hide", ["spam_link"], set()),
    ("אתם מטומטמים", "he", "abuse", "hide", ["abuse"], set()),
    ("ליצנים חחחח", "he", "abuse", "do_not_answer", ["troll"], set()),
    ("המוצר הגיע שבור ואף אחד לא עונה", "he", "complaint", "move_private", ["complaint", "account_topic"],
     {"delivery", "quality"}),
    # Persian
    ("سفارش ۱۲۳۴ من هنوز نرسیده، این بار سومه!!", "fa", "complaint", "move_private",
     ["complaint", "personal_data"], {"order", "delivery"}),
    ("چطور آدرس ارسال را تغییر بدهم؟", "fa", "question", "answer_public", ["question", "public_answer"], {"delivery"}),
    ("ممنون، پشتیبانی عالی بود!", "fa", "praise", "answer_public", ["praise", "thanks"], set()),
    ("درآمد رایگان با کریپتو! کلیک کنید bit.ly/abc", "fa", "spam", "hide", ["spam_link"], set()),
    ("خفه شو احمق", "fa", "abuse", "hide", ["abuse"], set()),
    ("با شماره ۰۹۱۲۳۴۵۶۷۸۹ تماس بگیرید، اپ کار نمیکنه", "fa", "complaint", "move_private",
     ["complaint", "personal_data"], {"outage"}),
    # Thai (no spaces between words: segmented as search does)
    ("คำสั่งซื้อ 1234 ยังไม่ได้รับเลย ครั้งที่สามแล้ว!!", "th", "complaint", "move_private",
     ["complaint", "personal_data"], {"order"}),
    ("เปลี่ยนที่อยู่จัดส่งได้ไหม", "th", "question", "answer_public", ["question", "public_answer"], {"delivery"}),
    ("ขอบคุณมากค่ะ บริการดีมาก", "th", "praise", "answer_public", ["praise", "thanks"], set()),
    ("รายได้ฟรี คลิกเลย www.rich-fast.xyz", "th", "spam", "hide", ["spam_link"], set()),
    ("555 ตัวตลก", "th", "abuse", "do_not_answer", ["troll"], set()),
    # Czech
    ("@acme moje objednávka č. 1234 nedorazila, už potřetí!!", "cs", "complaint", "move_private",
     ["complaint", "personal_data"], {"order", "delivery"}),
    ("Jak změním adresu doručení?", "cs", "question", "answer_public", ["question", "public_answer"], {"delivery"}),
    ("Děkuji, skvělá podpora!", "cs", "praise", "answer_public", ["praise", "thanks"], set()),
    ("Výhra zdarma! klikněte na www.vyhra-zdarma.cz", "cs", "spam", "hide", ["spam_link"], set()),
    ("Vy jste debilové", "cs", "abuse", "hide", ["abuse"], set()),
    ("Aplikace zase nefunguje, nejhorší služba", "cs", "complaint", "answer_public", ["complaint", "public_ack"],
     {"outage"}),
]


@pytest.mark.parametrize(("text", "language", "category", "decision", "codes", "topics"), TABLE,
                         ids=[f"{row[1]}-{n}-{row[2]}" for n, row in enumerate(TABLE)])
def test_the_judgement_table(text, language, category, decision, codes, topics):
    verdict = triage_post(post(text, language), Policy())
    assert (verdict.category, verdict.decision) == (category, decision), verdict.reasons
    assert [r.code for r in verdict.reasons][:len(codes)] == codes, [str(r) for r in verdict.reasons]
    assert topics <= set(verdict.topics)
    assert -1.0 <= verdict.sentiment <= 1.0 and 0 <= verdict.priority <= 100
    assert all(isinstance(r, str) and str(r) for r in verdict.reasons)


def test_the_reasons_name_what_was_seen():
    verdict = triage_post(post("@acme my order #1234 never arrived, this is the third time!!"), Policy())
    assert [str(r) for r in verdict.reasons] == [
        "A complaint (never arrived, third time).",
        "It shows an order number in public: continue in private.",
    ]
    spam = triage_post(post("WIN a FREE iPhone!!! click here http://bit.ly/xyz"), Policy())
    assert str(spam.reasons[0]) == ("Looks like spam: it links to http://bit.ly/xyz and uses promotional words "
                                    "(win, free, click).")
    cs = triage_post(post("@acme moje objednávka č. 1234 nedorazila, už potřetí!!", "cs"), Policy())
    assert "nedorazila, potřetí" in cs.reasons[0]  # the words as written, not the lists' stems


def test_sentiment_reads_negation_and_emphasis():
    def score(text: str, language: str = "en") -> float:
        return triage_post(post(text, language), Policy()).sentiment

    assert score("good") > 0 > score("not good")
    assert score("terrible!!!") < score("terrible") < 0
    assert score("the app is not working again, worst service ever") < -0.5  # "not" inside "not working" only
    assert score("ההזמנה לא הגיעה", "he") < 0 < score("שירות מעולה", "he")
    assert score("ยังไม่ได้รับของ", "th") < 0 < score("บริการดีมาก", "th")
    assert score("hello there") == 0


def test_priority_weighs_reach_known_customer_and_urgent_words():
    text = "my order never arrived"
    base = triage_post(post(text, reach=10), Policy()).priority
    wide = triage_post(post(text, reach=250_000), Policy())
    known = triage_post(post(text, reach=10, known=True), Policy())
    urgent = triage_post(post(text + ", urgent", reach=10), Policy())
    assert wide.priority > base and "reach" in [r.code for r in wide.reasons]
    assert known.priority == base + 10 and "known_customer" in [r.code for r in known.reasons]
    assert urgent.priority > base and "urgent" in [r.code for r in urgent.reasons]
    assert triage_post(post("WIN FREE crypto www.x.xyz", reach=1_000_000), Policy()).priority == 0


def test_workspace_lists_and_thresholds_change_the_verdict():
    policy = Policy(urgent_words=("recall",), topic_words=("acme one",), spam_words=("telegram group",),
                    praise_reach=50)
    followed = triage_post(post("is the Acme One part of the recall?"), policy)
    assert "acme one" in followed.topics and {"urgent", "topic"} <= {r.code for r in followed.reasons}
    assert triage_post(post("join our telegram group www.t.example.xyz"), policy).category == "spam"
    assert triage_post(post("thanks"), policy).decision == "answer_public"  # reach 500 >= 50
    assert triage_post(post("thanks"), Policy()).decision == "do_not_answer"


def test_a_known_customer_with_a_link_is_not_spam():
    verdict = triage_post(post("the checkout at https://acme.example.com/cart is not working", known=True), Policy())
    assert verdict.category == "complaint"


def test_stored_reasons_render_in_the_readers_language():
    verdict = triage_post(post("@acme my order #1234 never arrived"), Policy())
    payload = reason_payload(verdict.reasons)
    assert payload[1] == {"code": "personal_data", "params": {"kinds": ["order_number"]}}
    assert render_reasons(payload) == [str(r) for r in verdict.reasons]
    with translation.override("he"):
        assert render_reasons([{"text": "plain"}]) == ["plain"]
        assert isinstance(Reason("noise"), str)
