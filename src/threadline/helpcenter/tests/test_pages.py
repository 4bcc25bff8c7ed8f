"""The public help center's pages in English and Hebrew: what each shows, its language and direction, its SEO
head, the 404s that stay inside the help center, and that nothing internal, unpublished or of another
workspace is ever shown."""

from __future__ import annotations

import re

import pytest
from django.utils.encoding import iri_to_uri

from threadline.helpcenter.tests.builders import make_article, make_center, make_section
from threadline.knowledge.models import State
from threadline.testing.factories import make_workspace

pytestmark = pytest.mark.django_db
PUBLIC = "http://testserver"


@pytest.fixture
def acme(settings):
    settings.PUBLIC_URL = PUBLIC
    admin = make_workspace("Acme")
    center = make_center(admin, "acme", languages=("en", "he"))
    section = make_section(center, {"en": "Orders", "he": "הזמנות"}, {"en": "Shipping", "he": "משלוחים"})
    both = make_article(section, {"en": ("Track your parcel", "Open **Orders** and pick the parcel."),
                                  "he": ("מעקב אחרי החבילה", "פותחים את **ההזמנות** ובוחרים בחבילה.")})
    english = make_article(section, {"en": ("Change the delivery address", "Before it ships, write to us.")})
    internal = make_article(section, {"en": ("Refund override for agents", "Secret agent steps.")},
                            internal_only=True)
    draft = make_article(section, {"en": ("Upcoming returns policy", "Not yet."), "he": ("מדיניות החזרות", "עוד לא")},
                         states={"en": State.DRAFT, "he": State.REVIEW})
    return {"admin": admin, "center": center, "section": section, "both": both, "english": english,
            "internal": internal, "draft": draft}


def html_of(answer) -> str:
    assert answer["Content-Type"].startswith("text/html")
    return answer.content.decode()


def html_tag(html: str) -> str:
    return re.search(r"<html[^>]*>", html).group(0)


def article_path(article, language: str) -> str:
    translation = article.translations.get(language=language)
    return iri_to_uri(f"/help/acme/{language}/articles/{article.pk}-{translation.slug}/")


@pytest.mark.parametrize(("language", "direction", "category", "section"), [
    ("en", "ltr", "Orders", "Shipping"), ("he", "rtl", "הזמנות", "משלוחים")])
def test_home_lists_categories_sections_and_articles_in_the_language(client, acme, language, direction, category,
                                                                     section):
    answer = client.get(f"/help/acme/{language}/")
    html = html_of(answer)
    assert answer.status_code == 200
    assert html_tag(html) == f'<html lang="{language}" dir="{direction}">'
    assert category in html and section in html
    assert ("Track your parcel" if language == "en" else "מעקב אחרי החבילה") in html
    assert f'action="/help/acme/{language}/search/"' in html
    assert f'href="/portal/{acme["admin"].workspace.slug}/"' in html
    assert "Refund override" not in html and "Upcoming returns" not in html and "מדיניות החזרות" not in html


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("he", "rtl")])
def test_category_and_section_pages(client, acme, language, direction):
    section = acme["section"]
    category_html = html_of(client.get(f"/help/acme/{language}/categories/{section.category_id}/", follow=True))
    assert html_tag(category_html) == f'<html lang="{language}" dir="{direction}">'
    section_answer = client.get(f"/help/acme/{language}/sections/{section.pk}/")
    assert section_answer.status_code == 301  # to the address with the title's slug
    section_html = html_of(client.get(section_answer["Location"]))
    assert html_tag(section_html) == f'<html lang="{language}" dir="{direction}">'
    for html in (category_html, section_html):
        assert ("Track your parcel" if language == "en" else "מעקב אחרי החבילה") in html
        assert "Refund override" not in html and "Upcoming returns" not in html and "מדיניות החזרות" not in html
    if language == "he":  # only the English translation exists
        assert "Change the delivery address" not in section_html


@pytest.mark.parametrize(("language", "direction", "title"), [
    ("en", "ltr", "Track your parcel"), ("he", "rtl", "מעקב אחרי החבילה")])
def test_article_page_with_canonical_hreflang_and_open_graph(client, acme, language, direction, title):
    both = acme["both"]
    path = article_path(both, language)
    answer = client.get(path)
    html = html_of(answer)
    assert answer.status_code == 200
    assert html_tag(html) == f'<html lang="{language}" dir="{direction}">'
    assert f"<h1>{title}</h1>" in html and "<strong>" in html
    assert f'<link rel="canonical" href="{PUBLIC}{path}">' in html
    for other in ("en", "he"):
        assert f'<link rel="alternate" hreflang="{other}" href="{PUBLIC}{article_path(both, other)}">' in html
    assert f'<link rel="alternate" hreflang="x-default" href="{PUBLIC}{article_path(both, "en")}">' in html
    assert '<meta property="og:type" content="article">' in html
    assert f'<meta property="og:title" content="{title}">' in html
    assert f'<meta property="og:url" content="{PUBLIC}{path}">' in html
    # the switcher offers the other translation, and only that
    assert re.findall(r'<a href="([^"]+)" hreflang=', html) == [article_path(both, "he" if language == "en" else "en")]
    assert 'name="csrfmiddlewaretoken"' in html and "Placeholder" not in html


def test_an_article_without_the_language_is_a_404_that_offers_the_existing_one(client, acme):
    english = acme["english"]
    answer = client.get(f"/help/acme/he/articles/{english.pk}-anything/")
    html = html_of(answer)
    assert answer.status_code == 404
    assert html_tag(html) == '<html lang="he" dir="rtl">'
    assert f'href="{article_path(english, "en")}"' in html
    assert "hreflang" not in html.split("</head>")[0]  # a 404 has no alternates in its head


def test_a_single_translation_has_no_switcher_and_no_alternates(client, acme):
    html = html_of(client.get(article_path(acme["english"], "en")))
    assert 'hreflang="' not in html


def test_an_old_slug_redirects_permanently_to_the_current_address(client, acme):
    both = acme["both"]
    answer = client.get(f"/help/acme/en/articles/{both.pk}-old-title/?feedback=sent&utm_source=mail")
    assert answer.status_code == 301
    assert answer["Location"] == article_path(both, "en") + "?feedback=sent"
    assert client.get(f"/help/acme/en/articles/{both.pk}/")["Location"] == article_path(both, "en")


@pytest.mark.parametrize("name", ["internal", "draft"])
def test_internal_and_unpublished_articles_are_not_public(client, acme, name):
    article = acme[name]
    for translation in article.translations.all():
        for path in (f"/help/acme/{translation.language}/articles/{article.pk}-{translation.slug}/",
                     f"/help/acme/{translation.language}/articles/{article.pk}/"):
            answer = client.get(path)
            assert answer.status_code == 404
            assert translation.title not in answer.content.decode()


def test_unknown_pages_stay_inside_the_help_center(client, acme):
    for path, language in [("/help/acme/en/nothing-here/", "en"), ("/help/acme/de/", "en"),
                           ("/help/acme/he/categories/999999/", "he"), ("/help/acme/he/sections/999999-x/", "he")]:
        answer = client.get(path)
        html = html_of(answer)
        assert answer.status_code == 404, path
        assert f'lang="{language}"' in html_tag(html) and 'href="/help/acme/' in html, path
    assert client.get("/help/nobody/en/").status_code == 404


def test_the_help_center_root_follows_the_visitors_language(client, acme):
    assert client.get("/help/acme/", HTTP_ACCEPT_LANGUAGE="he-IL,he;q=0.9,en;q=0.5")["Location"] == "/help/acme/he/"
    assert client.get("/help/acme/", HTTP_ACCEPT_LANGUAGE="fr-FR")["Location"] == "/help/acme/en/"


def test_a_help_center_that_is_not_public_does_not_exist(client, acme):
    acme["center"].is_public = False
    acme["center"].save()
    assert client.get("/help/acme/en/").status_code == 404
    assert client.get(article_path(acme["both"], "en")).status_code == 404


def test_another_workspaces_rows_do_not_resolve_under_this_help_center(client, acme):
    other = make_workspace("Globex")
    center = make_center(other, "globex", languages=("en",), name="Globex Help")
    section = make_section(center, {"en": "Globex things"}, {"en": "Globex section"})
    theirs = make_article(section, {"en": ("Globex secret recipe", "Only for Globex readers.")})
    assert client.get(f"/help/globex/en/articles/{theirs.pk}/", follow=True).status_code == 200
    for path in (f"/help/acme/en/articles/{theirs.pk}/", f"/help/acme/en/sections/{section.pk}/",
                 f"/help/acme/en/categories/{section.category_id}/"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Globex" not in answer.content.decode()
    assert "Globex" not in client.get("/help/acme/en/").content.decode()


def test_brand_colours_come_as_a_stylesheet(client, acme):
    brand = acme["center"].brand
    brand.primary_color = "#aa0011"
    brand.save()
    answer = client.get("/help/acme/brand.css")
    assert answer["Content-Type"].startswith("text/css") and "--brand: #aa0011" in answer.content.decode()


def test_the_widget_of_the_workspace_is_on_every_page(client, acme):
    from django.db import transaction

    from threadline.channels.actions import do_create_channel

    assert "widget.js" not in client.get("/help/acme/en/").content.decode()
    with transaction.atomic():  # a widget only for another site: its frame would refuse the help center
        do_create_channel(acme["admin"], "webchat", "Shop chat", {"allowed_origins": ["https://shop.example"]})
    acme["center"].save()  # the page cache keys on the help center's last change
    assert "widget.js" not in client.get("/help/acme/en/").content.decode()
    with transaction.atomic():
        channel = do_create_channel(acme["admin"], "webchat", "Site chat",
                                    {"allowed_origins": ["https://shop.example", PUBLIC]})
    acme["center"].save()
    html = client.get("/help/acme/en/").content.decode()
    assert f'<script src="/widget.js" data-channel="{channel.pk}" async></script>' in html


def test_search_marks_the_matched_words_and_shows_only_public_articles(client, acme):
    from threadline.search.actions import do_index
    from threadline.search.models import Kind

    ids = [t.pk for name in ("both", "english", "internal", "draft") for t in acme[name].translations.all()]
    do_index(Kind.ARTICLE, ids)
    html = html_of(client.get("/help/acme/en/search/", {"q": "parcel"}))
    assert '<meta name="robots" content="noindex">' in html
    assert f'href="{article_path(acme["both"], "en")}"' in html
    assert "<mark>parcel</mark>" in html
    hebrew = html_of(client.get("/help/acme/he/search/", {"q": "החבילה"}))
    assert html_tag(hebrew) == '<html lang="he" dir="rtl">'
    assert f'href="{article_path(acme["both"], "he")}"' in hebrew and "<mark>" in hebrew
    for query in ("refund override", "upcoming returns"):
        found = html_of(client.get("/help/acme/en/search/", {"q": query}))
        assert "Refund override" not in found and "Upcoming returns" not in found and "/articles/" not in found
    assert client.get("/help/acme/en/search/").status_code == 200


def test_article_files_are_served_only_while_the_article_is_public(client, acme):
    from django.core.files.base import ContentFile

    from threadline.knowledge.models import ArticleAttachment
    from threadline.knowledge.queries import attachment_url

    both = acme["both"]
    attachment = ArticleAttachment(workspace_id=both.workspace_id, article=both, key="k" * 32, filename="map.png",
                                   content_type="image/png", size=8, sha256="0" * 64)
    attachment.file.save("stored-map", ContentFile(b"\x89PNG\r\n\x1a\n"), save=False)
    attachment.save()
    manual = ArticleAttachment(workspace_id=both.workspace_id, article=both, key="m" * 32, filename="manual.pdf",
                               content_type="application/pdf", size=4, sha256="0" * 64)
    manual.file.save("stored-manual", ContentFile(b"%PDF"), save=False)
    manual.save()
    answer = client.get(attachment_url(attachment))
    assert answer.status_code == 200 and b"".join(answer.streaming_content) == b"\x89PNG\r\n\x1a\n"
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert f'href="{attachment_url(manual)}"' in html_of(client.get(article_path(both, "en")))
    assert client.get(f"/help/files/{'k' * 32}/other-name.png").status_code == 404
    both.internal_only = True
    both.save()
    assert client.get(attachment_url(attachment)).status_code == 404


def test_the_addresses_knowledge_gives_out_are_the_pages_addresses(client, acme):
    """knowledge.queries' public paths (used by search hits, the answer bot, the editor) open the page itself,
    without a redirect, in a script with combining marks too (Thai)."""
    from threadline.knowledge import queries as knowledge

    center = acme["center"]
    center.languages = ["en", "he", "th"]
    center.save()
    section = acme["section"]
    section.titles = {**section.titles, "th": "การจัดส่งสินค้า"}
    section.save()
    section.category.titles = {**section.category.titles, "th": "คำสั่งซื้อ"}
    section.category.save()
    thai = make_article(section, {"th": ("ติดตามพัสดุของคุณ", "เปิดหน้าคำสั่งซื้อ")})
    paths = [knowledge.article_path(t) for a in (acme["both"], thai) for t in a.translations.all()]
    paths += [knowledge.category_path(section.category, code) for code in ("en", "he", "th")]
    paths += [knowledge.section_path(section, code) for code in ("en", "he", "th")]
    paths += [knowledge.help_center_path(center, code) for code in ("en", "he", "th")]
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_a_section_pages_its_articles_in_the_editors_order(client, acme, monkeypatch):
    from threadline.helpcenter import queries

    monkeypatch.setattr(queries, "SECTION_PAGE", 1)
    section = acme["section"]
    path = client.get(f"/help/acme/en/sections/{section.pk}/")["Location"]
    first, second = html_of(client.get(path)), html_of(client.get(path + "?page=2"))
    assert "Track your parcel" in first and 'rel="next" href="?page=2"' in first and 'rel="prev"' not in first
    assert "Change the delivery address" in second and 'rel="prev" href="?page=1"' in second
    last = html_of(client.get(path + "?page=3"))  # the draft: nothing public, and the internal one never counts
    assert "Upcoming returns" not in last and "Refund override" not in last and 'rel="next"' not in last
    assert client.get(path + "?page=4").status_code == 404


def _popular(html: str) -> list[str]:
    block = re.search(r'<h2 id="hc-top">.*?</ul>', html, re.S).group(0)
    return re.findall(r'<a href="[^"]*">([^<]*)</a>', block)


def test_the_most_liked_article_leads_the_popular_list_and_leaves_it_once_unpublished(client, acme):
    from threadline.helpcenter.subscribers import on_event
    from threadline.knowledge.models import ArticleFeedback

    english = acme["english"].translations.get(language="en")
    ArticleFeedback.objects.bulk_create([ArticleFeedback(workspace_id=english.workspace_id, translation=english,
                                                         helpful=True) for _ in range(3)])
    assert _popular(client.get("/help/acme/en/").content.decode()) == ["Change the delivery address",
                                                                       "Track your parcel"]
    english.state = State.DRAFT  # the ranking is kept apart from the pages: the next render still filters it
    english.save()
    on_event("article.unpublished", {"workspace_id": english.workspace_id, "article_id": english.article_id}, 1)
    assert _popular(client.get("/help/acme/en/").content.decode()) == ["Track your parcel"]
