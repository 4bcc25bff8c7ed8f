"""/app/knowledge through the real HTTP stack with a signed-in session: the list and its filters, writing an
article in two languages, preview, the workflow buttons each role sees and may press, the version history with
its diff and restore, files, and the structure screen; another workspace's member gets 404s."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from threadline.knowledge.actions import do_record_feedback
from threadline.knowledge.models import Article, ArticleTranslation, State
from threadline.knowledge.tests.builders import drain, make_site
from threadline.testing import factories

pytestmark = pytest.mark.django_db(transaction=False)


def signed_in(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


@pytest.fixture
def site(admin):
    return make_site(admin)


@pytest.fixture
def agent(admin):
    return factories.make_agent(admin, "agent@example.com")


def test_an_agent_writes_previews_saves_and_submits(admin, agent, site):
    web = signed_in(agent)
    page = web.get("/app/knowledge")
    assert page.status_code == 200 and "Write a new article" in page.content.decode()
    created = web.post("/app/knowledge/new", {"title": "Track your parcel", "language": "en",
                                               "section_id": site.section.pk})
    article = Article.objects.get(workspace_id=admin.workspace_id)
    assert created.status_code == 302 and created["Location"] == f"/app/knowledge/{article.pk}/en"
    url = f"/app/knowledge/{article.pk}/en"
    preview = web.post(url, {"title": "Track your parcel", "body": "**Open** <script>alert(1)</script>",
                             "body_format": "markdown", "preview": "1"})
    html = preview.content.decode()
    assert "<strong>Open</strong>" in html and "<script>alert(1)" not in html and "Preview (not saved)" in html
    assert ArticleTranslation.objects.get(article=article).body_source == ""  # a preview saves nothing
    saved = web.post(url, {"title": "Track your parcel", "body": "Open the **link**.", "body_format": "markdown",
                           "save": "1"})
    assert saved.status_code == 302
    editor = web.get(url).content.decode()
    assert "<p>Open the <strong>link</strong>.</p>" in editor
    assert "Submit for review" in editor and ">Publish<" not in editor  # an agent does not publish
    assert web.post(f"{url}/publish").status_code == 403
    assert web.post(f"{url}/submit").status_code == 302
    assert ArticleTranslation.objects.get(article=article).state == State.REVIEW
    hebrew = web.post(f"/app/knowledge/{article.pk}/he", {"title": "מעקב", "body": "פותחים", "save": "1"})
    assert hebrew.status_code == 302
    tabs = web.get(url).content.decode()
    assert f'href="/app/knowledge/{article.pk}/he" lang="he"' in tabs and 'dir="auto"' in tabs
    admin_view = signed_in(admin)
    assert ">Publish<" in admin_view.get(url).content.decode()
    assert admin_view.post(f"{url}/publish").status_code == 302
    assert ArticleTranslation.objects.get(article=article, language="en").state == State.PUBLISHED
    with transaction.atomic():
        do_record_feedback(ArticleTranslation.objects.get(article=article, language="en"), helpful=False,
                           comment="<b>The link</b> is broken")
    commented = web.get(url).content.decode()
    assert "&lt;b&gt;The link&lt;/b&gt; is broken" in commented and "Helpful: 0, not helpful: 1" in commented
    listed = web.get("/app/knowledge?state=published").content.decode()
    assert "Track your parcel" in listed and ">he · Draft<" in listed
    assert "Track your parcel" not in web.get("/app/knowledge?state=archived").content.decode()


def test_errors_are_shown_on_the_editor(admin, site):
    web = signed_in(admin)
    web.post("/app/knowledge/new", {"title": "Returns", "language": "en"})
    article = Article.objects.get(workspace_id=admin.workspace_id)
    empty = web.post(f"/app/knowledge/{article.pk}/en", {"title": "", "body": "x", "save": "1"})
    assert empty.status_code == 400 and "needs a title" in empty.content.decode()
    unfiled = web.post(f"/app/knowledge/{article.pk}/en/publish")
    assert unfiled.status_code == 409 and "File the article in a section" in unfiled.content.decode()


def test_history_shows_the_diff_escaped_and_restores(admin, site):
    web = signed_in(admin)
    web.post("/app/knowledge/new", {"title": "Returns", "language": "en", "section_id": site.section.pk})
    article = Article.objects.get(workspace_id=admin.workspace_id)
    url = f"/app/knowledge/{article.pk}/en"
    web.post(url, {"title": "Returns", "body": "Within 14 days.", "save": "1"})
    web.post(url, {"title": "Returns", "body": "Within <b>30</b> days.", "body_format": "markdown", "save": "1"})
    history = web.get(f"{url}/history").content.decode()
    assert "<ins>+ Within &lt;b&gt;30&lt;/b&gt; days.</ins>" in history
    assert "<del>- Within 14 days.</del>" in history
    assert web.post(f"{url}/versions/2/restore").status_code == 302
    assert ArticleTranslation.objects.get(article=article).body_source == "Within 14 days."
    assert "restored from version 2" in web.get(f"{url}/history").content.decode()


def test_settings_related_and_files(admin, agent, site):
    web = signed_in(agent)
    web.post("/app/knowledge/new", {"title": "One", "language": "en"})
    web.post("/app/knowledge/new", {"title": "Two", "language": "en"})
    first, second = Article.objects.filter(workspace_id=admin.workspace_id).order_by("pk")
    web.post(f"/app/knowledge/{first.pk}/settings", {"language": "en", "section_id": site.section.pk,
                                                     "internal_only": "1", "labels": "Shipping, returns"})
    first.refresh_from_db()
    assert (first.section_id, first.internal_only) == (site.section.pk, True)
    assert sorted(first.labels.values_list("name", flat=True)) == ["returns", "shipping"]
    web.post(f"/app/knowledge/{first.pk}/related", {"language": "en", "other_id": second.pk})
    assert list(second.related.all()) == [first]
    png = SimpleUploadedFile("map.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, content_type="image/png")
    assert web.post(f"/app/knowledge/{first.pk}/attachments", {"language": "en", "file": png}).status_code == 302
    attachment = first.attachments.get()
    editor = web.get(f"/app/knowledge/{first.pk}/en").content.decode()
    assert f"![map.png](/help/files/{attachment.key}/map.png)" in editor
    download = web.get(f"/app/knowledge/files/{attachment.pk}")
    assert download.status_code == 200 and download["Content-Type"] == "image/png"


def test_structure_screen(admin, agent, site):
    web = signed_in(admin)
    page = web.get("/app/knowledge/structure").content.decode()
    assert f"/help/{site.help_center.slug}/" in page and "Add a category" in page
    web.post("/app/knowledge/structure/categories", {"help_center_id": site.help_center.pk, "title_en": "Billing",
                                                     "title_he": "חיובים"})
    assert site.help_center.categories.filter(titles={"en": "Billing", "he": "חיובים"}).exists()
    assert web.post("/app/knowledge/structure/help-center", {"brand_id": "abc", "slug": "x"}).status_code == 404
    assert web.post("/app/knowledge/structure/sections", {"category_id": "x", "title_en": "y"}).status_code == 404
    assert "Add a category" not in signed_in(agent).get("/app/knowledge/structure").content.decode()
    assert signed_in(agent).post("/app/knowledge/structure/categories", {
        "help_center_id": site.help_center.pk, "title_en": "X"}).status_code == 403


def test_another_workspace_gets_404(admin, site):
    web = signed_in(admin)
    web.post("/app/knowledge/new", {"title": "Secret", "language": "en"})
    article = Article.objects.get(workspace_id=admin.workspace_id)
    drain()  # the search subscriber indexes the draft
    stranger = signed_in(factories.make_workspace("Other Co"))
    assert stranger.get(f"/app/knowledge/{article.pk}/en").status_code == 404
    assert stranger.get(f"/app/knowledge/{article.pk}/en/history").status_code == 404
    assert stranger.post(f"/app/knowledge/{article.pk}/en", {"title": "x", "body": "y", "save": "1"}).status_code == 404
    searched = stranger.get("/app/knowledge?q=Secret").content.decode()
    assert "No article matches." in searched and f"/app/knowledge/{article.pk}/" not in searched
    assert "No article matches." not in web.get("/app/knowledge?q=Secret").content.decode()


def test_structure_screen_edits_and_deletes_with_the_apis_refusals(admin, agent, site):
    web = signed_in(admin)
    center, category, section = site.help_center, site.category, site.section
    saved = web.post(f"/app/knowledge/structure/help-centers/{center.pk}", {
        "name": "Acme answers", "slug": "acme-answers", "default_language": "he", "languages": ["en", "cs"],
        "is_public": "0"})
    assert saved.status_code == 302 and saved["Location"] == "/app/knowledge/structure?done=saved"
    center.refresh_from_db()
    assert (center.name, center.slug, center.default_language, center.languages, center.is_public) == (
        "Acme answers", "acme-answers", "he", ["he", "en", "cs"], False)
    web.post(f"/app/knowledge/structure/categories/{category.pk}", {
        "title_en": "Purchases", "title_he": "רכישות", "description_en": "Buying", "position": "3"})
    category.refresh_from_db()
    assert (category.titles, category.descriptions, category.position) == (
        {"en": "Purchases", "he": "רכישות"}, {"en": "Buying"}, 3)
    web.post("/app/knowledge/structure/categories", {"help_center_id": center.pk, "title_en": "Billing"})
    billing = center.categories.get(titles={"en": "Billing"})
    web.post(f"/app/knowledge/structure/sections/{section.pk}", {"title_en": "Invoices", "category_id": billing.pk})
    section.refresh_from_db()
    assert (section.titles, section.category_id) == ({"en": "Invoices"}, billing.pk)
    page = web.get("/app/knowledge/structure").content.decode()
    assert 'value="Purchases"' in page and 'value="רכישות"' in page and "Delete the section…" in page

    web.post("/app/knowledge/new", {"title": "Read an invoice", "language": "en", "section_id": section.pk})
    refused = web.post(f"/app/knowledge/structure/sections/{section.pk}/delete")
    assert refused.status_code == 409
    assert "This section still has 1 article: move or delete it first." in refused.content.decode()
    refused = web.post(f"/app/knowledge/structure/help-centers/{center.pk}/delete")
    assert refused.status_code == 409
    assert "This help center still has 2 categories: delete them first." in refused.content.decode()
    blank = web.post(f"/app/knowledge/structure/categories/{billing.pk}", {"title_en": " "})
    assert blank.status_code == 400 and "Give a title in at least one language." in blank.content.decode()

    assert signed_in(agent).post(f"/app/knowledge/structure/categories/{category.pk}/delete").status_code == 403
    assert signed_in(agent).post(f"/app/knowledge/structure/sections/{section.pk}",
                                 {"title_en": "x", "category_id": billing.pk}).status_code == 403
    stranger = signed_in(factories.make_workspace("Other Co"))
    for path in (f"categories/{category.pk}/delete", f"sections/{section.pk}/delete",
                 f"help-centers/{center.pk}/delete", f"categories/{category.pk}"):
        assert stranger.post(f"/app/knowledge/structure/{path}", {"title_en": "x"}).status_code == 404, path
    deleted = web.post(f"/app/knowledge/structure/categories/{category.pk}/delete")
    assert deleted.status_code == 302 and deleted["Location"] == "/app/knowledge/structure?done=deleted"
    assert not center.categories.filter(pk=category.pk).exists()


def test_deleting_an_article_asks_first_then_removes_it(admin, agent, site):
    web = signed_in(admin)
    web.post("/app/knowledge/new", {"title": "Track your parcel", "language": "en", "section_id": site.section.pk})
    article = Article.objects.get(workspace_id=admin.workspace_id)
    web.post(f"/app/knowledge/{article.pk}/he", {"title": "מעקב אחרי החבילה", "body": "פותחים", "save": "1"})
    web.post(f"/app/knowledge/{article.pk}/he/publish")
    assert f'href="/app/knowledge/{article.pk}/delete"' in web.get(f"/app/knowledge/{article.pk}/en").content.decode()
    confirm = web.get(f"/app/knowledge/{article.pk}/delete")
    html = confirm.content.decode()
    assert confirm.status_code == 200 and "Delete the article?" in html
    assert "Track your parcel" in html and "מעקב אחרי החבילה" in html and "2 saved versions" in html
    assert "published: it leaves the help center" in html
    assert "· Draft" in html  # the other translation's state, as the editor names it
    assert Article.objects.filter(pk=article.pk).exists()  # showing the question deletes nothing
    assert signed_in(agent).get(f"/app/knowledge/{article.pk}/delete").status_code == 403
    assert signed_in(agent).post(f"/app/knowledge/{article.pk}/delete").status_code == 403
    assert signed_in(factories.make_workspace("Other Co")).post(f"/app/knowledge/{article.pk}/delete").status_code == 404
    deleted = web.post(f"/app/knowledge/{article.pk}/delete")
    assert deleted.status_code == 302 and deleted["Location"] == "/app/knowledge?deleted=1"
    assert not Article.objects.filter(pk=article.pk).exists()
    assert "The article was deleted." in web.get(deleted["Location"]).content.decode()
