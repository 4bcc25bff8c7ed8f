"""The search acceptance of issue 13: in each of en/he/fa/th/cs, among twenty look-alike articles per language
("How do I change my …?", one per account topic, all in one workspace), a word inside a longer phrase, a prefix
(Hebrew ה/ו/ב/ל, Persian with and without the zero-width non-joiner, the last word typed in part) and a typo
find the right article first. The articles are seeded and indexed like bench/, then searched through
`search_articles` on the real engine (SQLite FTS5, or PostgreSQL with THREADLINE_TEST_DATABASE_URL)."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.knowledge.actions import do_archive, do_save_translation, do_unpublish, do_update_article
from threadline.knowledge.models import Article, ArticleTranslation
from threadline.knowledge.queries import search_articles
from threadline.knowledge.seed import TOPICS, seed_articles
from threadline.knowledge.tests.builders import drain
from threadline.search.models import Kind, SearchDocument
from threadline.search.rebuild import rebuild
from threadline.testing import factories

pytestmark = pytest.mark.django_db(transaction=False)

# per language: queries that must find the article about topic 0 (the delivery address) first
QUERIES = {
    "en": ["address",  # one word of "How do I change my delivery address?"
           "deliv",  # a prefix (the last word is typed in part)
           "adress",  # a typo
           "how can I change the delivery address of my parcel"],  # a question with words no article has
    "he": ["כתובת",  # inside "איך משנים את כתובת המשלוח?"
           "בכתובת", "לכתובת", "והכתובת",  # with the prefixes ב ל ו+ה
           "כתובט",  # a typo
           "איך אפשר לשנות את הכתובת למשלוח"],
    "fa": ["آدرسهای",  # without the zero-width non-joiner the article writes ("آدرس‌های")
           "آدرس\u200cهای",  # with it
           "آدرس",  # a part the non-joiner separates
           "تحوبل",  # a typo of "تحویل"
           "چطور آدرس تحویل را عوض کنم"],
    "th": ["ที่อยู่",  # inside unspaced "วิธีเปลี่ยนที่อยู่จัดส่ง"
           "จัดส่ง",
           "ที่อยุ่",  # a typo (it breaks the word's segmentation)
           "ฉันจะเปลี่ยนที่อยู่จัดส่งได้อย่างไร"],
    "cs": ["dorucovaci",  # without diacritics, inside "Jak změnit doručovací adresu?"
           "adres",  # a prefix of "adresu"
           "dorucovcai",  # a typo (transposition)
           "jak změním doručovací adresu"],
}


@pytest.fixture
def seeded(admin):
    return seed_articles(admin.workspace, 20)


def target(language: str, seeded) -> int:
    return ArticleTranslation.objects.get(article_id=seeded.article_ids[0], language=language).pk


@pytest.mark.parametrize("language", sorted(QUERIES))
def test_the_right_article_comes_first_in_each_language(admin, seeded, language):
    assert len(TOPICS[language]) == 20
    wanted = target(language, seeded)
    for query in QUERIES[language]:
        hits = search_articles(admin.workspace_id, query, language=language)
        assert hits, query
        assert hits[0].translation_id == wanted, (query, [(h.title, h.score) for h in hits])
        assert all(h.language == language for h in hits)
        assert len(hits) == 1 or hits[0].score > hits[1].score, (query, [(h.title, h.score) for h in hits])


def test_a_hit_carries_what_the_bot_and_the_help_center_need(admin, seeded):
    hit = search_articles(admin.workspace_id, "delivery address", language="en")[0]
    translation = ArticleTranslation.objects.get(pk=hit.translation_id)
    assert (hit.article_id, hit.language, hit.title) == (translation.article_id, "en", translation.title)
    assert hit.body_text == translation.body_text and "**" not in hit.body_text  # plain text, not Markdown
    assert "delivery address" in hit.snippet and len(hit.snippet) <= 300
    assert hit.path == f"/help/{seeded.help_center.slug}/en/articles/{hit.article_id}-how-do-i-change-my-delivery-address/"
    assert 0 < hit.score <= 1


def test_scores_are_comparable_across_queries(admin, seeded):
    exact = search_articles(admin.workspace_id, "delivery address", language="en")[0].score
    question = search_articles(admin.workspace_id, "can I change the delivery address of my parcel",
                               language="en")[0].score
    unrelated = search_articles(admin.workspace_id, "parcel refund warranty", language="en")
    assert exact > question > 0.3
    assert unrelated == []


def test_without_a_language_every_language_is_searched(admin, seeded):
    hits = search_articles(admin.workspace_id, "כתובת", language=None, limit=50)
    assert {h.language for h in hits} == {"he"}
    assert {h.language for h in search_articles(admin.workspace_id, "Settings", language=None, limit=50)} == {"en"}


def test_only_published_public_translations_unless_internal(admin, seeded, settings):
    first = Article.objects.get(pk=seeded.article_ids[0])
    with transaction.atomic():
        do_unpublish(admin, first.translations.get(language="en"))
        do_update_article(admin, Article.objects.get(pk=seeded.article_ids[1]), internal_only=True)
    drain()
    assert search_articles(admin.workspace_id, "delivery address", language="en") == []
    hits = search_articles(admin.workspace_id, "delivery address", language="en", include_internal=True)
    assert hits[0].article_id == first.pk and hits[0].path == ""
    internal = search_articles(admin.workspace_id, "payment method", language="en", include_internal=True)
    assert internal[0].article_id == seeded.article_ids[1] and internal[0].path == ""
    assert search_articles(admin.workspace_id, "payment method", language="en") == []
    with transaction.atomic():
        do_archive(admin, first.translations.get(language="en"))
    drain()
    assert search_articles(admin.workspace_id, "delivery address", language="en", include_internal=True) == []


def test_edits_are_searchable_once_the_pipeline_ran(admin, seeded):
    article = Article.objects.get(pk=seeded.article_ids[3])
    with transaction.atomic():
        do_save_translation(admin, article, "en", title="Where is my parcel?",
                            body="Follow your parcel with the tracking link in the confirmation email.")
    assert search_articles(admin.workspace_id, "tracking", language="en") == []
    drain()
    hits = search_articles(admin.workspace_id, "tracking link", language="en")
    assert [h.article_id for h in hits] == [article.pk]


def test_another_workspace_and_another_brand_find_nothing(admin, seeded):
    other = factories.make_workspace("Other Co")
    seed_articles(other.workspace, 3, languages=["en"])
    assert [h.translation_id for h in search_articles(other.workspace_id, "delivery address", language="en")] != [
        target("en", seeded)]
    assert all(ArticleTranslation.objects.get(pk=h.translation_id).workspace_id == other.workspace_id
               for h in search_articles(other.workspace_id, "delivery", language="en"))
    brand = seeded.help_center.brand_id
    assert search_articles(admin.workspace_id, "delivery", language="en", brand_id=brand)
    assert search_articles(admin.workspace_id, "delivery", language="en", brand_id=brand + 1000) == []


def test_search_rebuild_indexes_articles_again(admin, seeded):
    SearchDocument.objects.filter(kind=Kind.ARTICLE).delete()
    assert search_articles(admin.workspace_id, "delivery address", language="en") == []
    counts = rebuild(admin.workspace)
    assert counts[Kind.ARTICLE] == 100
    assert search_articles(admin.workspace_id, "delivery address", language="en")[0].translation_id == target(
        "en", seeded)
