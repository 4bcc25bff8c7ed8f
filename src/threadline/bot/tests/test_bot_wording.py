"""What the bot says and understands: a long answer keeps its link and question within the length every channel
takes under buttons; "a person" in the five languages, and ordinary sentences that are not such a request."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from threadline.bot import wording


def test_a_long_answer_is_shortened_in_its_snippet_never_its_link():
    hit = SimpleNamespace(title="T" * 200, snippet="s" * 300, path="/help/acme/he/articles/7-%D7%9E%D7%AA%D7%99/")
    text = wording.answer(hit, "g" * 500)
    lines = text.splitlines()
    assert len(text) == wording.ANSWER_LENGTH
    assert lines[-2].endswith("/help/acme/he/articles/7-מתי/") and lines[-1] == "Did this answer your question?"
    assert lines[3].endswith("…")
    short = SimpleNamespace(title="Returns", snippet="Within 30 days.", path="")
    assert wording.answer(short) == ("This article may answer your question:\nReturns\nWithin 30 days.\n"
                                     "Did this answer your question?")


@pytest.mark.parametrize("text", [
    "Can I talk to a HUMAN?", "agent please", "אני רוצה לדבר עם נציג", "לנציג בבקשה", "תן לי בן אדם",
    "می‌خواهم با اپراتور صحبت کنم", "میخواهم با پشتیبان حرف بزنم", "ขอคุยกับเจ้าหน้าที่", "chci mluvit s člověkem",
    "Spojte mě s operátorem"])
def test_asking_for_a_person(text):
    assert wording.asks_for_person(text)


@pytest.mark.parametrize("text", [
    "Where is my order?", "ההזמנה שלי לא הגיעה", "سفارش من کجاست؟", "สินค้ายังไม่มาถึงครับ", "Kde je moje objednávka?",
    "The agentur sent it", "נציגות"])
def test_not_asking_for_a_person(text):
    assert not wording.asks_for_person(text)
