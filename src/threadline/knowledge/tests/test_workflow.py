"""The article workflow through the actions: draft → review → published → unpublished/archived, who may do
what, versions with their diff and restore, sanitization, labels, related articles, attachments, feedback, the
events and the audit trail."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.audit.models import AuditEntry
from threadline.contacts.actions import do_create_contact
from threadline.core.errors import Conflict, PermissionDenied, ValidationFailed
from threadline.events.models import OutboxEvent
from threadline.knowledge import actions
from threadline.knowledge.models import ArticleFeedback, ArticleTranslation, State
from threadline.knowledge.queries import access_article, article_path, public_attachment, version_diff
from threadline.knowledge.tests.builders import make_site
from threadline.tenancy.models import Brand, Role
from threadline.testing import factories

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def site(admin):
    return make_site(admin)


@pytest.fixture
def agent(admin):
    return factories.make_agent(admin, "agent@example.com")


def write(actor, site, **fields):
    with transaction.atomic():
        return actions.do_create_article(actor, section=site.section, language=fields.pop("language", "en"),
                                         title=fields.pop("title", "Track your parcel"),
                                         body=fields.pop("body", "Open the **tracking** link."), **fields)


def events(kind):
    return [e.payload for e in OutboxEvent.objects.filter(type=kind).order_by("pk")]


def test_an_agent_drafts_and_submits_an_admin_publishes(admin, agent, site):
    draft = write(agent, site)
    assert (draft.state, draft.slug) == (State.DRAFT, "track-your-parcel")
    assert draft.body_html == "<p>Open the <strong>tracking</strong> link.</p>"
    assert draft.body_text == "Open the tracking link."
    assert article_path(draft) == ""  # not public yet
    with transaction.atomic():
        actions.do_submit_for_review(agent, draft)
    with pytest.raises(PermissionDenied):
        actions.do_publish(agent, draft)
    with transaction.atomic():
        actions.do_publish(admin, draft)
    draft.refresh_from_db()
    assert draft.state == State.PUBLISHED and draft.published_at is not None
    assert article_path(draft) == f"/help/{site.help_center.slug}/en/articles/{draft.article_id}-track-your-parcel/"
    assert events("article.published")[-1] == {"workspace_id": admin.workspace_id, "article_id": draft.article_id,
                                               "translation_id": draft.pk, "language": "en",
                                               "translation_ids": [draft.pk]}
    # a published translation is the public site: only a publisher edits it, and it stays published
    with pytest.raises(PermissionDenied):
        actions.do_save_translation(agent, draft.article, "en", title="Track it", body="New")
    with transaction.atomic():
        actions.do_save_translation(admin, draft.article, "en", title="Track it", body="New")
    draft.refresh_from_db()
    assert (draft.state, draft.title, draft.versions.count()) == (State.PUBLISHED, "Track it", 2)
    with transaction.atomic():
        actions.do_unpublish(admin, draft)
    assert events("article.unpublished")[-1]["translation_id"] == draft.pk
    with transaction.atomic():
        actions.do_archive(admin, draft)
    with pytest.raises(Conflict):
        actions.do_save_translation(admin, draft.article, "en", title="Again", body="x")
    audit = list(AuditEntry.objects.filter(workspace_id=admin.workspace_id, action__startswith="article")
                 .order_by("pk").values_list("action", flat=True))
    assert audit == ["article.created", "article_translation.submitted", "article_translation.published",
                     "article_translation.updated", "article_translation.unpublished", "article_translation.archived"]


def test_a_light_agent_reads_but_does_not_write(admin, site):
    light = factories.make_agent(admin, "light@example.com", role=Role.LIGHT_AGENT)
    with pytest.raises(PermissionDenied):
        write(light, site)
    translation = write(admin, site)
    assert access_article(light, translation.article_id) == translation.article


def test_publishing_needs_a_section_and_a_draft(admin, site):
    with transaction.atomic():
        draft = actions.do_create_draft_from_text(admin.workspace, title="Returns in 30 days",
                                                  body_markdown="Send it back *unused*.", language="en",
                                                  source_url="https://example.com/community/topics/7")
    assert draft.article.section is None and draft.article.source_url.endswith("/7")
    with pytest.raises(Conflict) as refused:
        actions.do_publish(admin, draft)
    assert refused.value.code == "article_unfiled"
    with transaction.atomic():
        actions.do_update_article(admin, draft.article, section=site.section)
        actions.do_publish(admin, draft)
    with pytest.raises(Conflict):
        actions.do_publish(admin, draft)  # published already


def test_versions_diff_and_restore(admin, site):
    first = write(admin, site, body="Line one\nLine two")
    article = first.article
    with transaction.atomic():
        actions.do_save_translation(admin, article, "en", title="Track your parcel", body="Line one\nLine 2")
        actions.do_save_translation(admin, article, "en", title="Track your parcel", body="Line one\nLine 2")  # no-op
    versions = list(first.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    diff = [(line.op, line.text) for line in version_diff(versions[0], versions[1])]
    assert ("-", "Line two") in diff and ("+", "Line 2") in diff and (" ", "Line one") in diff
    with transaction.atomic():
        restored = actions.do_restore_version(admin, versions[0])
    latest = restored.versions.order_by("-number").first()
    assert (latest.number, latest.body_source, latest.note) == (3, "Line one\nLine two", "restored from version 1")
    assert restored.body_source == "Line one\nLine two"


def test_bodies_are_sanitized(admin, site):
    html = write(admin, site, body_format="html", body=(
        '<p onclick="steal()">Hi<img src="/x.png" onerror="alert(1)"><script>alert(2)</script>'
        '<a href="javascript:alert(3)">x</a><iframe src="https://evil.example"></iframe></p>'
        '<table><tr><td>1</td></tr></table><pre><code class="language-py">print()</code></pre>'))
    for bad in ("onclick", "onerror", "<script", "alert(2)", "javascript:", "<iframe"):
        assert bad not in html.body_html
    assert '<img src="/x.png">' in html.body_html and "<td>1</td>" in html.body_html
    assert '<code class="language-py">' in html.body_html
    markdown = write(admin, site, language="he", title="מעקב", body="<script>alert(1)</script> [x](javascript:alert(1))")
    assert "<script" not in markdown.body_html and 'href="javascript' not in markdown.body_html


def test_translations_labels_and_related_articles(admin, agent, site):
    english = write(agent, site)
    with transaction.atomic():
        hebrew = actions.do_save_translation(agent, english.article, "he", title="מעקב אחרי החבילה",
                                             body="פותחים את הקישור.")
        other = write(agent, site, title="Returns")
        actions.do_update_article(agent, english.article, labels=["Shipping", "shipping", " parcels "])
        actions.do_relate(agent, english.article, other.article)
    assert hebrew.slug == "מעקב-אחרי-החבילה" and hebrew.state == State.DRAFT
    assert sorted(english.article.labels.values_list("name", flat=True)) == ["parcels", "shipping"]
    assert list(other.article.related.all()) == [english.article]  # both ways
    with pytest.raises(ValidationFailed):
        actions.do_relate(agent, english.article, english.article)
    stranger = factories.make_workspace("Other Co")
    with pytest.raises(ValidationFailed):
        actions.do_create_article(stranger, section=site.section, language="en", title="x")


def test_attachments_are_public_only_with_a_published_article(admin, site):
    translation = write(admin, site)
    with transaction.atomic():
        image = actions.do_attach(admin, translation.article, filename="map.png", content_type="image/png",
                                  content=b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    assert image.size == 108 and len(image.key) == 32
    assert public_attachment(image.key) is None
    with transaction.atomic():
        actions.do_publish(admin, translation)
    assert public_attachment(image.key) == image
    with pytest.raises(ValidationFailed):
        actions.do_attach(admin, translation.article, filename="run.exe", content_type="application/x-msdownload",
                          content=b"MZ")


def test_feedback_on_a_published_translation(admin, site):
    translation = write(admin, site)
    with pytest.raises(Conflict):
        actions.do_record_feedback(translation, helpful=True)
    with transaction.atomic():
        actions.do_publish(admin, translation)
        contact = do_create_contact(admin.workspace, name="Dana Levi")
        actions.do_record_feedback(translation, helpful=False, comment="  The link is broken  ", contact=contact)
        actions.do_record_feedback(translation, helpful=True)
    assert list(ArticleFeedback.objects.filter(translation=translation).order_by("pk")
                .values_list("helpful", "comment", "contact")) == [(False, "The link is broken", contact.pk),
                                                                   (True, "", None)]
    stranger = do_create_contact(factories.make_workspace("Other Co").workspace, name="Eve")
    with pytest.raises(ValidationFailed):
        actions.do_record_feedback(translation, helpful=True, contact=stranger)
    contact.delete()  # what erasing the customer does: what they wrote goes with them
    assert list(ArticleFeedback.objects.filter(translation=translation).values_list("helpful", "comment")) == [
        (True, "")]


def test_help_center_slugs_are_unique_and_checked(admin, site):
    other = factories.make_workspace("Other Co")
    brand = Brand.objects.get(workspace=other.workspace)
    with pytest.raises(Conflict):
        actions.do_save_help_center(other, None, brand=brand, slug=site.help_center.slug, name="Other")
    for bad in ("Has Space", "files", "-x", ""):
        with pytest.raises(ValidationFailed):
            actions.do_save_help_center(other, None, brand=brand, slug=bad, name="Other")
    assert ArticleTranslation.objects.count() == 0
