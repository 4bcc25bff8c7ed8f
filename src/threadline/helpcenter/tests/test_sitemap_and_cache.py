"""Sitemaps (index → per help center files with lastmod and xhtml:link alternates; nothing internal,
unpublished or not public) and the page cache (conditional GET, a knowledge event makes pages fresh)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.db import transaction
from django.utils.encoding import iri_to_uri

from threadline.events.bus import publish
from threadline.helpcenter import queries
from threadline.helpcenter.tests.builders import make_article, make_center, make_section
from threadline.knowledge.events import ArticlePublished
from threadline.knowledge.models import State
from threadline.testing.factories import make_workspace

pytestmark = pytest.mark.django_db
PUBLIC = "http://testserver"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


@pytest.fixture
def site(settings):
    settings.PUBLIC_URL = PUBLIC
    admin = make_workspace("Acme")
    center = make_center(admin, "acme", languages=("en", "he"))
    section = make_section(center, {"en": "Orders", "he": "הזמנות"}, {"en": "Shipping", "he": "משלוחים"})
    both = make_article(section, {"en": ("Track your parcel", "Open Orders."), "he": ("מעקב אחרי החבילה", "פותחים.")})
    internal = make_article(section, {"en": ("Agents only", "x")}, internal_only=True)
    draft = make_article(section, {"en": ("Draft article", "x"), "he": ("טיוטה", "x")},
                         states={"en": State.DRAFT, "he": State.PUBLISHED})
    other = make_workspace("Globex")
    hidden = make_center(other, "globex-private", languages=("en",), is_public=False)
    make_article(make_section(hidden, {"en": "c"}, {"en": "s"}), {"en": ("Globex private", "x")})
    return {"admin": admin, "center": center, "section": section, "both": both, "internal": internal, "draft": draft}


def url_of(path: str) -> str:
    return PUBLIC + iri_to_uri(path)


def test_the_index_lists_only_public_help_centers(client, site):
    answer = client.get("/help/sitemap.xml")
    assert answer["Content-Type"].startswith("application/xml")
    files = [loc.text for loc in ET.fromstring(answer.content).findall("s:sitemap/s:loc", NS)]
    assert files == [f"{PUBLIC}/help/acme/sitemap-1.xml"]
    center_index = ET.fromstring(client.get("/help/acme/sitemap.xml").content)
    assert [loc.text for loc in center_index.findall("s:sitemap/s:loc", NS)] == files
    assert client.get("/help/globex-private/sitemap.xml").status_code == 404


def test_a_sitemap_file_lists_published_translations_with_lastmod_and_alternates(client, site):
    both, draft = site["both"], site["draft"]
    root = ET.fromstring(client.get("/help/acme/sitemap-1.xml").content)
    entries = {url.find("s:loc", NS).text: url for url in root.findall("s:url", NS)}
    en = url_of(f"/help/acme/en/articles/{both.pk}-track-your-parcel/")
    he = url_of(f"/help/acme/he/articles/{both.pk}-מעקב-אחרי-החבילה/")
    draft_he = url_of(f"/help/acme/he/articles/{draft.pk}-טיוטה/")
    assert set(entries) == {f"{PUBLIC}/help/acme/en/", f"{PUBLIC}/help/acme/he/", en, he, draft_he}
    alternates = {(link.get("hreflang"), link.get("href")) for link in entries[he].findall("x:link", NS)}
    assert alternates == {("en", en), ("he", he), ("x-default", en)}
    assert entries[en].find("s:lastmod", NS).text.startswith(str(both.translations.first().updated_at.year))
    assert entries[draft_he].findall("x:link", NS) == []  # its English is a draft: no alternates
    assert client.get("/help/acme/sitemap-2.xml").status_code == 404
    assert client.get("/help/acme/sitemap-0.xml").status_code == 404  # not a negative slice (a 500)


def test_sitemap_files_split_by_articles(client, site, monkeypatch):
    monkeypatch.setattr(queries, "SITEMAP_ARTICLES", 1)
    locs = [loc.text for loc in ET.fromstring(client.get("/help/acme/sitemap.xml").content).findall(".//s:loc", NS)]
    assert locs == [f"{PUBLIC}/help/acme/sitemap-1.xml", f"{PUBLIC}/help/acme/sitemap-2.xml"]
    second = ET.fromstring(client.get("/help/acme/sitemap-2.xml").content)
    assert [u.find("s:loc", NS).text for u in second.findall("s:url", NS)] == [
        url_of(f"/help/acme/he/articles/{site['draft'].pk}-טיוטה/")]


def test_conditional_get_answers_304_until_the_content_changes(client, site, run_jobs):
    first = client.get("/help/acme/en/")
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
    assert client.get("/help/acme/en/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    with transaction.atomic():  # knowledge publishes an event when an article changes; the subscriber runs
        publish(ArticlePublished(workspace_id=site["admin"].workspace_id, article_id=site["both"].pk,
                                 translation_id=0, language="en"))
    run_jobs()
    second = client.get("/help/acme/en/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200 and second["ETag"] != first["ETag"]


def test_a_cached_page_shows_a_change_once_the_event_arrived(client, site):
    both = site["both"]
    path = iri_to_uri(f"/help/acme/en/articles/{both.pk}-track-your-parcel/")
    assert "Open Orders." in client.get(path).content.decode()
    translation = both.translations.get(language="en")
    translation.body_html = "<p>Open the Orders page.</p>"
    translation.save()
    assert "Open Orders." in client.get(path).content.decode()  # cached until the article event
    from threadline.helpcenter.subscribers import on_event

    on_event("article.updated", {"workspace_id": both.workspace_id, "article_id": both.pk}, 1)
    assert "Open the Orders page." in client.get(path).content.decode()


def test_renaming_a_category_shows_at_once_without_an_event(client, site):
    assert "Orders" in client.get("/help/acme/en/").content.decode()
    category = site["section"].category
    category.titles = {"en": "Purchases", "he": "רכישות"}
    category.save()
    html = client.get("/help/acme/en/").content.decode()
    assert "Purchases" in html and ">Orders<" not in html


def test_pages_with_a_form_carry_each_visitors_own_token(client, site):
    from django.test import Client

    path = iri_to_uri(f"/help/acme/en/articles/{site['both'].pk}-track-your-parcel/")
    other = Client()
    client.get(path), other.get(path)  # each visitor gets their CSRF cookie
    first, second = client.get(path), other.get(path)
    token = 'name="csrfmiddlewaretoken" value="'
    assert first.content.decode().split(token)[1][:64] != second.content.decode().split(token)[1][:64]
    assert first["ETag"] != second["ETag"] and first["Cache-Control"] == "private, no-cache"
    assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert other.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_unknown_query_parameters_share_the_page_and_its_etag(client, site):
    first = client.get("/help/acme/en/")
    tracked = client.get("/help/acme/en/?utm_source=newsletter&x=1")
    assert tracked.status_code == 200 and tracked["ETag"] == first["ETag"]
    assert client.get("/help/acme/en/?page=2")["ETag"] != first["ETag"]
