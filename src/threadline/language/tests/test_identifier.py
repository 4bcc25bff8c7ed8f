"""The compact language identifier (`language.identifier`) answers exactly as py3langid's own.

The corpus is what is installed here, nothing written for the test: the translations of this project's
catalogs (English, Hebrew, Persian, Thai, Czech) and of Django's own catalogs (about a hundred languages), plus
inputs at the edges (empty, digits, capitals, bytes cut in the middle of a character). For each text the
whole ranking is compared, every probability as the same float, on the full model, with raw scores, and
restricted to language sets the way `language.detection` restricts it.
"""

from __future__ import annotations

import copy
import functools
import re
from array import array
from pathlib import Path

import django
import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

import threadline
from threadline.language.identifier import drop_pages, load_identifier, restrict

OURS = Path(threadline.__file__).parent / "locale"
DJANGOS = Path(django.__file__).parent
STRING = re.compile(r'^(msgid|msgstr(?:\[\d+\])?) "(.*)"$')
RESTRICTED = (("en", "cs"), ("en", "cs", "de", "fr", "es"), ("ru", "uk", "bg"), ("pt", "es", "it", "ca"),
              ("da", "no", "nn", "sv"), ("ja", "zh", "ko", "vi"), ("id", "ms"), ("hr", "sr", "bs", "sl"))


def translations(po: Path, *, source: bool = False) -> list[str]:
    """The translated strings of a gettext catalog (its source strings with `source`), escapes left as they
    are: any text will do as input, as long as both identifiers get the same."""
    texts, current, field = [], [], ""
    for line in po.read_text(encoding="utf-8").splitlines() + [""]:
        match = STRING.match(line)
        if match:
            if current and field:
                texts.append("".join(current))
            field = match.group(1) if match.group(1).startswith("msgstr") != source else ""
            current = [match.group(2)]
        elif line.startswith('"') and current:
            current.append(line[1:-1])
        else:
            if current and field:
                texts.append("".join(current))
            current, field = [], ""
    return [text for text in texts if text.strip()]


@functools.cache
def corpus() -> list[str | bytes]:
    texts: list[str | bytes] = []
    for language in ("en", "he", "fa", "th", "cs"):
        found = translations(OURS / language / "LC_MESSAGES" / "django.po", source=language == "en")
        texts += found[:600]
    for po in sorted(DJANGOS.glob("conf/locale/*/LC_MESSAGES/django.po")):
        texts += translations(po)[:40]
    for po in sorted(DJANGOS.glob("contrib/admin/locale/*/LC_MESSAGES/django.po")):
        texts += translations(po)[:15]
    long = " ".join(text for text in texts[:200] if isinstance(text, str))
    texts += ["", " ", "12345", "!!!", "ORDER NOT ARRIVED", "ok", long, long.upper(), "שלום hello สวัสดี"]
    texts += ["Dobrý den, objednávka".encode()[:-1], "สวัสดีค่ะ".encode()[:-2], b"\xff\xfe broken", b"plain bytes"]
    return texts


@functools.cache
def theirs(norm_probs: bool) -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=norm_probs)


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    """The compact identifiers as `detect` loads them: the large arrays mapped from a cache folder (written by
    the first, read by the second)."""
    folder = tmp_path_factory.mktemp("data")
    return {norm_probs: load_identifier(folder, norm_probs=norm_probs) for norm_probs in (True, False)}


def restricted(identifier: LanguageIdentifier, languages: tuple[str, ...]) -> LanguageIdentifier:
    copied = copy.copy(identifier)  # as py3langid's users restrict a model
    copied.set_languages(list(languages))
    return copied


def resident_kib() -> int:
    return next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("VmRSS:"))


def test_the_corpus_is_thousands_of_texts_in_many_languages():
    texts = corpus()
    assert len(texts) > 6000
    assert len({theirs(True).classify(text)[0] for text in texts[::7]}) > 40


def test_the_model_is_mapped_from_the_data_directory_with_the_same_values(ours, tmp_path):
    original = theirs(True)
    (tmp_path / "a-file").write_text("")
    unwritable = tmp_path / "a-file" / "data"  # no cache can be written: held in memory
    for compact in (ours[True], load_identifier(None), load_identifier(unwritable)):
        assert isinstance(compact._rowbase, array) and isinstance(compact.tk_output, array)
        assert len(compact._rowbase) == len(original._rowbase) > 100_000
        assert compact._rowbase.tolist() == original._rowbase
        assert compact.tk_output.tolist() == original.tk_output
        assert compact.tk_nextmove == original.tk_nextmove
        assert list(compact.nb_classes) == list(original.nb_classes)
        assert compact.nb_ptc.tobytes() == original.nb_ptc.tobytes() and compact.nb_pc.tobytes() == original.nb_pc.tobytes()
    assert isinstance(ours[True].tk_nextmove, memoryview)  # mapped, not a copy
    assert not ours[True].nb_ptc.flags.owndata
    assert isinstance(load_identifier(unwritable).tk_nextmove, array)


def test_a_restricted_copy_gives_back_the_full_tables_pages(ours):
    table = ours[True].nb_ptc
    drop_pages(table)
    before = resident_kib()
    table.max()  # every page of the full table read
    assert resident_kib() - before > 20_000
    restricted = restrict(ours[True], ["en", "cs"])
    assert resident_kib() - before < 5_000
    assert restricted.nb_classes == ["cs", "en"] or sorted(restricted.nb_classes) == ["cs", "en"]
    assert restricted.nb_ptc.shape == (table.shape[0], 2)


@pytest.mark.parametrize("norm_probs", [True, False], ids=["probabilities", "raw scores"])
def test_every_text_gets_the_same_ranking_and_scores_from_the_full_model(ours, norm_probs):
    compact, original = ours[norm_probs], theirs(norm_probs)
    differ = [text for text in corpus() if compact.rank(text) != original.rank(text)]
    assert differ == []


def test_every_text_gets_the_same_answer_from_models_restricted_to_languages(ours):
    compact, original = ours[True], theirs(True)
    pairs = [(restrict(compact, list(languages)), restricted(original, languages)) for languages in RESTRICTED]
    differ = []
    for number, text in enumerate(corpus()):
        mine, reference = pairs[number % len(pairs)]
        if mine.rank(text) != reference.rank(text) or mine.classify(text) != reference.classify(text):
            differ.append(text)
    assert differ == []
