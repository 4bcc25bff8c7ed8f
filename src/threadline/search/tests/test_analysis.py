"""Text analysis with real text in each of the five languages (pure functions, no database)."""

from __future__ import annotations

from threadline.search.analysis import (
    SortedWords,
    _thai_tokenizer,
    has_thai,
    hebrew_stems,
    index_text,
    normalise,
    query_groups,
    terms_of,
    words,
)
from threadline.search.highlight import highlight


def matches(query: str, text: str) -> bool:
    """Whether a document with `text` holds every group of `query` (what both backends compute)."""
    held = set(index_text(text).split())
    return all(held & set(group) for group in query_groups(query))


def test_english_is_casefolded_and_split_on_punctuation():
    assert index_text("Where is my PARCEL? Tracking-number: AB12_34.") == "where is my parcel tracking number ab12 34"
    assert matches("parcel", "Where is my PARCEL?")
    assert not matches("parcels", "Where is my PARCEL?")


def test_czech_diacritics_are_removed_at_index_and_query_time():
    text = "Dobrý den, paní Dvořáková, zásilka č. 4411 ještě nedorazila do Brna."
    assert "dvorakova" in index_text(text).split()
    assert normalise("Dvořáková") == normalise("dvorakova") == normalise("DVOŘÁKOVÁ") == "dvorakova"
    assert matches("Dvorakova zasilka", text)
    assert matches("ještě nedorazila", text)
    assert normalise("Łódź") == "lodz"
    assert normalise("Straße") == "strasse"


def test_hebrew_niqqud_and_cantillation_are_removed_and_final_letters_folded():
    assert normalise("שָׁלוֹם") == normalise("שלום") == "שלומ"
    assert normalise("בְּרֵאשִׁ֖ית") == "בראשית"  # points and a cantillation mark (tipeha)
    assert normalise("ארץ") == "ארצ" and normalise("ספרים") == "ספרימ"


def test_hebrew_one_letter_prefixes_are_indexed_stripped():
    assert hebrew_stems("ובהזמנה") == ["בהזמנה", "הזמנה", "זמנה"]
    assert hebrew_stems("שבבית") == ["בבית", "בית"]
    assert hebrew_stems("הזמנה") == ["זמנה"]
    assert hebrew_stems("גדול") == []  # ג is not a prefix letter
    assert hebrew_stems("של") == []  # too short to strip
    text = "שלום, ובהזמנה שלי חסר פריט אחד"
    assert matches("הזמנה", text)
    assert matches("ההזמנה", "ההזמנה מספר 5531 נשלחה אתמול") and matches("ההזמנה", "הזמנה חדשה")
    assert matches("ובהזמנה", "הזמנה חדשה")
    assert matches("בהזמנה", "מה קרה להזמנה שלי?")
    assert not matches("משלוח", text)


def test_persian_zero_width_non_joiner_written_or_not_finds_the_same_word():
    with_zwnj, without = "می‌کنم", "میکنم"
    assert normalise(with_zwnj) == normalise(without) == "میکنم"
    text = "من سفارشم را پیگیری می‌کنم ولی هنوز نرسیده است"
    assert matches(without, text) and matches(with_zwnj, text)
    assert matches(with_zwnj, "من پیگیری میکنم")
    assert matches("کنم", text)  # the part after the non-joiner is indexed too


def test_arabic_letter_variants_harakat_and_tatweel_are_folded():
    assert normalise("كتاب") == normalise("کتاب")  # Arabic kaf, Persian keheh
    assert normalise("علي") == normalise("علی")  # Arabic yeh, Persian yeh
    assert normalise("أحمد") == normalise("إحمد") == normalise("احمد")
    assert normalise("آب") == "اب"
    assert normalise("مُحَمَّد") == "محمد"  # harakat
    assert normalise("ســــلام") == "سلام"  # tatweel
    assert normalise("۱۲۳۴") == normalise("١٢٣٤") == "1234"  # Persian and Arabic-Indic digits
    assert matches("سفارش 1234", "سفارش شماره ۱۲۳۴ كجاست؟")


def test_thai_is_segmented_into_words_inside_unspaced_text():
    text = "สวัสดีครับผมต้องการติดตามพัสดุหมายเลขTH12345"
    terms = index_text(text).split()
    assert {"สวัสดี", "ต้องการ", "ติดตาม", "พัสดุ", "หมายเลข", "th", "12345"} <= set(terms)
    assert matches("ติดตาม", text) and matches("พัสดุ", text)
    assert matches("ติดตามพัสดุ", text)  # an unspaced query is segmented the same way
    assert not matches("ยกเลิก", text)


def test_thai_dictionary_answers_and_segments_as_pythainlps_own_trie():
    """The compact word list (issue 11, memory) stands in for PyThaiNLP's Trie: same prefixes, same words."""
    from pythainlp.corpus import thai_words
    from pythainlp.tokenize import word_tokenize
    from pythainlp.util import Trie

    vocabulary = sorted(thai_words())[::50]
    ours, theirs = SortedWords([*vocabulary, " ", "  ติดตาม "]), Trie([*vocabulary, " ", "  ติดตาม "])
    text = "".join(vocabulary[::7]) + "ก" + "ติดตามx ติดตา"
    assert [ours.prefixes(text, at) for at in range(len(text))] == [theirs.prefixes(text, at) for at in range(len(text))]
    assert any(ours.prefixes(text, at) for at in range(len(text)))
    assert "ติดตาม" in ours and "ติดตา" not in ours and "" not in ours
    for sample in ("สวัสดีครับผมต้องการติดตามพัสดุหมายเลขTH12345", "ผมต้องการคืนเงิน สำหรับสินค้าที่ชำรุด ค่ะ"):
        assert _thai_tokenizer()(sample) == word_tokenize(sample, engine="newmm", keep_whitespace=True)


def test_words_keep_their_positions_in_the_original_text():
    text = "Paní Dvořáková: ผมต้องการติดตาม"
    found = {text[w.start:w.end]: w.term for w in words(text)}
    assert found["Dvořáková"] == "dvorakova"
    assert found["ติดตาม"] == "ติดตาม"


def test_long_blobs_and_symbols_are_not_terms():
    assert terms_of("x" * 65 + " ok -- ** !!") == {"ok"}


def test_highlight_marks_the_words_as_written():
    parts = highlight("Paní Dvořáková píše, že zásilka nedorazila.", query_groups("dvorakova zasilka"))
    assert [p for p, hit in parts if hit] == ["Dvořáková", "zásilka"]
    parts = highlight("שלום, ובהזמנה שלי חסר פריט", query_groups("הזמנה"))
    assert [p for p, hit in parts if hit] == ["ובהזמנה"]
    parts = highlight("ผมต้องการติดตามพัสดุ", query_groups("พัสดุ"))
    assert [p for p, hit in parts if hit] == ["พัสดุ"]
    parts = highlight("I track parcels", query_groups("parc"), prefix_last=True)
    assert [p for p, hit in parts if hit] == ["parcels"]


def test_words_containing_skips_the_thai_runs_that_cannot_hold_a_match():
    text = "ผมต้องการติดตามพัสดุ ขอบคุณครับ Dana ส่งใบแจ้งหนี้ให้หน่อย"
    every = words(text)
    assert [w.term for w in words(text, containing={"พัสดุ"})] == [
        w.term for w in every if w.end <= text.index(" ขอบคุณ") or not has_thai(w.term)]
    assert [w.term for w in words(text, containing={"ใบแจ้ง"})] == [
        w.term for w in every if w.start >= text.index("Dana")]
    assert [w.term for w in words(text, containing={"nothing"})] == ["dana"]
    parts = highlight(text, [("ใบแจ้ง",)], prefix_last=True, whole=True)  # the whole run, as `find` widens it
    assert [p for p, hit in parts if hit] == ["ใบแจ้งหนี้"]
    assert "".join(p for p, _ in parts) == text


def test_highlight_cuts_long_text_around_the_first_match():
    text = "lorem " * 50 + "the refund arrived " + "ipsum " * 50
    parts = highlight(text, query_groups("refund"), width=30)
    assert parts[0] == ("…", False) and parts[-1] == ("…", False)
    assert ("refund", True) in parts
    assert len("".join(p for p, _ in parts)) < 150
