"""Deleting from the knowledge base through /api/v1/knowledge: an article goes with its translations, versions,
files (the stored bytes too), feedback, relations and search documents, is audited and announced
(`article.deleted`), after which the help center and search no longer have it; a help center, category or
section that still holds something refuses with the same clear message everywhere; the permission and another
workspace's ids are checked first."""

from __future__ import annotations

import base64

import pytest
from django.core.files.storage import default_storage

from threadline.audit.models import AuditEntry
from threadline.events.models import OutboxEvent
from threadline.knowledge.actions import do_record_feedback
from threadline.knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleRelation,
    ArticleTranslation,
    ArticleVersion,
)
from threadline.knowledge.queries import article_path, search_articles
from threadline.knowledge.tests.builders import drain
from threadline.knowledge.tests.test_api import call, people, section  # noqa: F401 - the fixtures
from threadline.search.models import Kind, SearchDocument

pytestmark = pytest.mark.django_db(transaction=False)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _article(client, people, section, title: str) -> int:  # noqa: F811 - the fixture's value
    made = call(client, "post", "/api/v1/knowledge/articles", people["agent"],
                {"section_id": section, "language": "en", "title": title, "body": "Open **Orders**."})
    assert made.status_code == 201, made.content
    return made.json()["article_id"]


def test_deleting_an_article_removes_all_it_holds_and_the_help_center_follows(
        client, people, section, settings, django_capture_on_commit_callbacks):  # noqa: F811
    settings.PUBLIC_URL = "http://testserver"
    admin = people["admin"]
    article = _article(client, people, section, "Track your parcel")
    other = _article(client, people, section, "Change the address")
    call(client, "put", f"/api/v1/knowledge/articles/{article}/translations/he", admin,
         {"title": "מעקב אחרי החבילה", "body": "פותחים את ההזמנות."})
    for language in ("en", "he"):
        assert call(client, "post", f"/api/v1/knowledge/articles/{article}/translations/{language}/publish",
                    admin).status_code == 200
    call(client, "post", f"/api/v1/knowledge/articles/{article}/related/{other}", admin)
    attached = call(client, "post", f"/api/v1/knowledge/articles/{article}/attachments", admin,
                    {"filename": "map.png", "content_type": "image/png",
                     "content_base64": base64.b64encode(PNG).decode()}).json()
    stored = ArticleAttachment.objects.get(pk=attached["id"]).file.name
    english = ArticleTranslation.objects.get(article_id=article, language="en")
    do_record_feedback(english, helpful=False, comment="Where is the map?")
    drain()
    workspace_id = english.workspace_id
    assert [hit.article_id for hit in search_articles(workspace_id, "parcel", language="en")] == [article]
    page = article_path(english)
    assert client.get(page).status_code == 200  # rendered and cached
    ids = sorted(ArticleTranslation.objects.filter(article_id=article).values_list("pk", flat=True))

    assert call(client, "delete", f"/api/v1/knowledge/articles/{article}", people["agent"]).status_code == 403
    assert call(client, "delete", f"/api/v1/knowledge/articles/{article}", people["stranger"]).status_code == 404
    assert Article.objects.filter(pk=article).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert call(client, "delete", f"/api/v1/knowledge/articles/{article}", admin).status_code == 204

    assert not Article.objects.filter(pk=article).exists()
    assert not ArticleTranslation.objects.filter(pk__in=ids).exists()
    assert not ArticleVersion.objects.filter(translation_id__in=ids).exists()
    assert not ArticleFeedback.objects.filter(translation_id__in=ids).exists()
    assert not ArticleAttachment.objects.filter(pk=attached["id"]).exists() and not default_storage.exists(stored)
    assert not ArticleRelation.objects.filter(to_article_id=article).exists()
    assert call(client, "get", f"/api/v1/knowledge/articles/{other}", admin).json()["related_ids"] == []
    assert not SearchDocument.objects.filter(kind=Kind.ARTICLE, object_id__in=ids).exists()
    assert search_articles(workspace_id, "parcel", language="en") == []
    entry = AuditEntry.objects.get(action="article.deleted", target_id=str(article))
    assert entry.details["titles"] == {"en": "Track your parcel", "he": "מעקב אחרי החבילה"}
    assert (entry.details["versions"], entry.details["files"], entry.details["feedback"]) == (2, 1, 1)
    event = OutboxEvent.objects.get(type="article.deleted")
    assert event.payload["article_id"] == article and sorted(event.payload["translation_ids"]) == ids
    assert sorted(event.payload["published"]) == ["en", "he"]
    drain()  # the help center's subscriber: its cached page is stale now
    assert client.get(page).status_code == 404
    assert call(client, "get", f"/api/v1/knowledge/articles/{article}", admin).status_code == 404


def test_a_help_center_category_or_section_that_holds_something_refuses_deletion(
        client, people, section):  # noqa: F811
    admin = people["admin"]
    article = _article(client, people, section, "Track your parcel")
    category = call(client, "get", f"/api/v1/knowledge/sections/{section}", admin).json()["category_id"]
    center = call(client, "get", f"/api/v1/knowledge/categories/{category}", admin).json()["help_center_id"]
    refusals = [(f"sections/{section}", "section_not_empty",
                 "This section still has 1 article: move or delete it first."),
                (f"categories/{category}", "category_not_empty",
                 "This category still has 1 section: move or delete it first."),
                (f"help-centers/{center}", "help_center_not_empty",
                 "This help center still has 1 category: delete it first.")]
    for path, code, message in refusals:
        answer = call(client, "delete", f"/api/v1/knowledge/{path}", admin)
        assert (answer.status_code, answer.json()) == (409, {"code": code, "message": message}), path
        assert call(client, "delete", f"/api/v1/knowledge/{path}", people["stranger"]).status_code == 404
        assert call(client, "delete", f"/api/v1/knowledge/{path}", people["agent"]).status_code == 403

    assert call(client, "patch", f"/api/v1/knowledge/articles/{article}", admin, {"unfile": True}).status_code == 200
    for path, _code, _message in refusals:
        assert call(client, "delete", f"/api/v1/knowledge/{path}", admin).status_code == 204, path
    assert AuditEntry.objects.filter(action="help_center.deleted", target_id=str(center)).exists()
    assert call(client, "get", f"/api/v1/knowledge/help-centers/{center}", admin).status_code == 404
    assert client.get("/help/acme/en/").status_code == 404
