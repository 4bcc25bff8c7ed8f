"""/api/v1/knowledge over the real HTTP stack: an admin sets up a help center, an agent writes and submits,
the admin publishes; versions, diff and restore; search; related articles and files; and a second workspace that
sees none of it (404) and whose ids never reach the first one's rows."""

from __future__ import annotations

import base64

import pytest

from threadline.conversations.tests.builders import bearer
from threadline.knowledge.tests.builders import drain
from threadline.tenancy.models import Brand
from threadline.testing import factories

pytestmark = pytest.mark.django_db(transaction=False)


def call(client, method, url, token, body=None):
    kwargs = {"content_type": "application/json", "data": body} if body is not None else {}
    return getattr(client, method)(url, **kwargs, **bearer(token))


@pytest.fixture
def people(admin):
    agent = factories.make_agent(admin, "agent@example.com")
    other = factories.make_workspace("Other Co")
    return {"admin": factories.make_token(admin), "agent": factories.make_token(agent),
            "stranger": factories.make_token(other), "brand": Brand.objects.get(workspace=admin.workspace).pk,
            "other_brand": Brand.objects.get(workspace=other.workspace).pk}


@pytest.fixture
def section(client, people):
    made = call(client, "post", "/api/v1/knowledge/help-centers", people["admin"],
                {"brand_id": people["brand"], "slug": "acme", "name": "Acme help", "languages": ["he", "cs"]})
    assert made.status_code == 201, made.content
    assert made.json()["languages"] == ["en", "he", "cs"]
    category = call(client, "post", "/api/v1/knowledge/categories", people["admin"],
                    {"help_center_id": made.json()["id"], "titles": {"en": "Orders", "he": "הזמנות"}})
    assert category.status_code == 201, category.content
    created = call(client, "post", "/api/v1/knowledge/sections", people["admin"],
                   {"category_id": category.json()["id"], "titles": {"en": "Shipping"}})
    assert created.status_code == 201, created.content
    return created.json()["id"]


def test_write_submit_publish_and_search(client, people, section):
    made = call(client, "post", "/api/v1/knowledge/articles", people["agent"],
                {"section_id": section, "language": "en", "title": "Track your parcel",
                 "body": "Open the **tracking** link.\n\n<script>alert(1)</script>", "labels": ["Shipping"]})
    assert made.status_code == 201, made.content
    article = made.json()["article_id"]
    assert made.json()["state"] == "draft" and "<script" not in made.json()["body_html"]
    assert made.json()["path"] == ""
    url = f"/api/v1/knowledge/articles/{article}/translations"
    hebrew = call(client, "put", f"{url}/he", people["agent"], {"title": "מעקב אחרי החבילה", "body": "פותחים את הקישור"})
    assert hebrew.status_code == 200 and hebrew.json()["slug"] == "מעקב-אחרי-החבילה"
    assert call(client, "post", f"{url}/en/submit", people["agent"]).json()["state"] == "review"
    refused = call(client, "post", f"{url}/en/publish", people["agent"])
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    published = call(client, "post", f"{url}/en/publish", people["admin"])
    assert published.status_code == 200 and published.json()["state"] == "published"
    assert published.json()["path"] == f"/help/acme/en/articles/{article}-track-your-parcel/"
    again = call(client, "post", f"{url}/en/publish", people["admin"])
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"
    drain()
    hits = call(client, "get", "/api/v1/knowledge/search?q=tracking&language=en", people["agent"]).json()
    assert [(h["article_id"], h["language"]) for h in hits] == [(article, "en")]
    hebrew_hits = call(client, "get", "/api/v1/knowledge/search?q=" + "בחבילה", people["agent"]).json()
    assert [h["language"] for h in hebrew_hits] == ["he"] and hebrew_hits[0]["path"] == ""  # a draft
    public = call(client, "get", "/api/v1/knowledge/search?q=" + "בחבילה&include_internal=false",
                  people["agent"]).json()
    assert public == []
    listed = call(client, "get", "/api/v1/knowledge/articles?state=published&label=shipping", people["agent"]).json()
    assert [a["id"] for a in listed["items"]] == [article]
    assert call(client, "get", "/api/v1/knowledge/articles?language=cs", people["agent"]).json()["items"] == []


def test_versions_diff_and_restore(client, people, section):
    made = call(client, "post", "/api/v1/knowledge/articles", people["agent"],
                {"section_id": section, "language": "en", "title": "Returns", "body": "Within 14 days."})
    url = f"/api/v1/knowledge/articles/{made.json()['article_id']}/translations/en"
    call(client, "put", url, people["agent"], {"title": "Returns", "body": "Within 30 days."})
    versions = call(client, "get", f"{url}/versions", people["agent"]).json()
    assert [v["number"] for v in versions] == [2, 1]
    diff = call(client, "get", f"{url}/versions/2/diff", people["agent"]).json()
    assert {"op": "-", "text": "Within 14 days."} in diff["lines"] and {"op": "+", "text": "Within 30 days."} in diff[
        "lines"]
    restored = call(client, "post", f"{url}/versions/1/restore", people["agent"])
    assert restored.status_code == 200 and restored.json()["body_source"] == "Within 14 days."
    assert call(client, "get", f"{url}/versions/3", people["agent"]).json()["note"] == "restored from version 1"
    assert call(client, "get", f"{url}/versions/9", people["agent"]).status_code == 404


def test_related_articles_and_files(client, people, section):
    first = call(client, "post", "/api/v1/knowledge/articles", people["agent"],
                 {"section_id": section, "language": "en", "title": "One"}).json()["article_id"]
    second = call(client, "post", "/api/v1/knowledge/articles", people["agent"],
                  {"section_id": section, "language": "en", "title": "Two"}).json()["article_id"]
    related = call(client, "post", f"/api/v1/knowledge/articles/{first}/related/{second}", people["agent"])
    assert related.json()["related_ids"] == [second]
    assert call(client, "get", f"/api/v1/knowledge/articles/{second}", people["agent"]).json()["related_ids"] == [first]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    attached = call(client, "post", f"/api/v1/knowledge/articles/{first}/attachments", people["agent"],
                    {"filename": "map.png", "content_type": "image/png",
                     "content_base64": base64.b64encode(png).decode()})
    assert attached.status_code == 201, attached.content
    assert attached.json()["url"].startswith("/help/files/")
    download = call(client, "get", f"/api/v1/knowledge/attachments/{attached.json()['id']}", people["agent"])
    assert b"".join(download.streaming_content) == png and download["X-Content-Type-Options"] == "nosniff"
    moved = call(client, "patch", f"/api/v1/knowledge/articles/{first}", people["agent"],
                 {"unfile": True, "internal_only": True, "labels": ["a", "b"]})
    assert (moved.json()["section_id"], moved.json()["internal_only"], moved.json()["labels"]) == (None, True,
                                                                                                  ["a", "b"])


def test_another_workspace_sees_nothing(client, people, section):
    article = call(client, "post", "/api/v1/knowledge/articles", people["agent"],
                   {"section_id": section, "language": "en", "title": "Secret plans"}).json()["article_id"]
    drain()
    stranger = people["stranger"]
    for url in (f"/api/v1/knowledge/articles/{article}", f"/api/v1/knowledge/articles/{article}/translations/en",
                f"/api/v1/knowledge/articles/{article}/translations/en/versions",
                f"/api/v1/knowledge/sections/{section}"):
        answer = call(client, "get", url, stranger)
        assert answer.status_code == 404, url
        assert answer.json()["code"].endswith("not_found")
    assert call(client, "get", "/api/v1/knowledge/articles", stranger).json()["items"] == []
    assert call(client, "get", "/api/v1/knowledge/search?q=secret", stranger).json() == []
    written = call(client, "put", f"/api/v1/knowledge/articles/{article}/translations/he", stranger,
                   {"title": "x", "body": "y"})
    assert written.status_code == 404
    filed = call(client, "post", "/api/v1/knowledge/articles", stranger,
                 {"section_id": section, "language": "en", "title": "Into their section"})
    assert filed.status_code == 404
    borrowed = call(client, "post", "/api/v1/knowledge/help-centers", stranger,
                    {"brand_id": people["brand"], "slug": "theirs"})
    assert borrowed.status_code == 404
    taken = call(client, "post", "/api/v1/knowledge/help-centers", stranger,
                 {"brand_id": people["other_brand"], "slug": "acme"})
    assert taken.status_code == 409 and taken.json()["code"] == "slug_taken"


def test_bad_input_is_a_clear_4xx(client, people, section):
    bad_language = call(client, "post", "/api/v1/knowledge/articles", people["agent"],
                        {"section_id": section, "language": "english!", "title": "x"})
    assert bad_language.status_code == 400 and bad_language.json()["code"] == "invalid_language"
    no_titles = call(client, "post", "/api/v1/knowledge/categories", people["admin"],
                     {"help_center_id": 1, "titles": {}})
    assert no_titles.status_code in (400, 404)
    not_empty = call(client, "delete", f"/api/v1/knowledge/sections/{section}", people["admin"])
    assert not_empty.status_code == 204  # empty: no article yet
    assert call(client, "get", "/api/v1/knowledge/search?q=", people["agent"]).status_code == 422
