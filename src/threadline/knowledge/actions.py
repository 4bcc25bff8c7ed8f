"""Every write to the knowledge base (the caller owns the transaction): help centers, categories, sections,
articles and their translations through the workflow draft → review → published (→ archived), versions and
restore, attachments, labels, related articles, readers' feedback.

Each change is audited and publishes `article.published`, `article.updated`, `article.unpublished` or
`article.deleted` (dispatched after commit). Agents (`knowledge.edit`) write drafts and submit them for review;
publishers (`knowledge.publish`: admins) publish, unpublish, archive, delete articles, edit what is published and
organise the categories and sections (deleting only empty ones); help centers are workspace settings
(`admin.workspace`).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from threadline.audit.actions import record_change
from threadline.contacts.models import Contact
from threadline.conversations.attachments import check_attachment
from threadline.core.errors import Conflict, ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.knowledge import rendering
from threadline.knowledge.events import ArticleDeleted, ArticlePublished, ArticleUnpublished, ArticleUpdated
from threadline.knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleLabel,
    ArticleRelation,
    ArticleTranslation,
    ArticleVersion,
    BodyFormat,
    Category,
    HelpCenter,
    Section,
    State,
)
from threadline.knowledge.queries import article_contents
from threadline.redaction.ingest import mask_text
from threadline.search.actions import do_remove
from threadline.search.models import Kind
from threadline.tenancy.models import Brand, Membership, Workspace
from threadline.tenancy.permissions import Permission, require

LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
MAX_TITLE = 300
MAX_BODY = 200_000  # characters of source
MAX_LABELS = 20
MAX_LABEL = 64
MAX_COMMENT = 2000
RESERVED_SLUGS = frozenset({"files", "sitemap.xml", "static", "search"})
UNCHANGED: Any = object()


# ── validation ───────────────────────────────────────────────────────────────────────────────────────────
def check_language(language: str, field: str = "language") -> str:
    language = (language or "").strip().lower()
    if not LANGUAGE.fullmatch(language):
        raise ValidationFailed(_("A language is a code such as en, he, fa, th or cs."), code="invalid_language",
                               field=field)
    return language


def check_titles(titles: dict[str, str], field: str = "titles") -> dict[str, str]:
    """Titles per language ({"en": "Orders"}): at least one, each 1 to 200 characters."""
    clean = {check_language(k, field): (v or "").strip()[:200] for k, v in (titles or {}).items()}
    if not clean or not all(clean.values()):
        raise ValidationFailed(_("Give a title in at least one language."), code="invalid_titles", field=field)
    return clean


def check_title(title: str) -> str:
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise ValidationFailed(_("An article needs a title of at most 300 characters."), code="invalid_title",
                               field="title")
    return title


def check_body(body: str, body_format: str) -> str:
    if body_format not in BodyFormat.values:
        raise ValidationFailed(_("The body is Markdown or HTML."), code="invalid_format", field="body_format")
    if len(body or "") > MAX_BODY:
        raise ValidationFailed(_("The body is too long (200,000 characters at most)."), code="body_too_long",
                               field="body")
    return body or ""


def check_labels(labels: list[str]) -> list[str]:
    clean = list(dict.fromkeys(label.strip().lower()[:MAX_LABEL] for label in labels or [] if label.strip()))
    if len(clean) > MAX_LABELS:
        raise ValidationFailed(_("An article has at most 20 labels."), code="invalid_labels", field="labels")
    return clean


def _same_workspace(workspace_id: int, row: Any, field: str) -> None:
    if row is not None and row.workspace_id != workspace_id:
        raise ValidationFailed(_("No such %(field)s.") % {"field": field}, code=f"invalid_{field}", field=field)


# ── events ───────────────────────────────────────────────────────────────────────────────────────────────
def _translation_ids(article: Article) -> list[int]:
    return sorted(article.translations.values_list("pk", flat=True))


def _updated(article: Article, *changes: str) -> None:
    publish(ArticleUpdated(workspace_id=article.workspace_id, article_id=article.pk,
                           translation_ids=_translation_ids(article), changes=list(changes)))


# ── help centers, categories, sections ───────────────────────────────────────────────────────────────────
def check_slug(slug: str, help_center: HelpCenter | None) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG.fullmatch(slug) or slug in RESERVED_SLUGS:
        raise ValidationFailed(_("A help center's address is lowercase letters, digits and hyphens, such as "
                                 "acme."), code="invalid_slug", field="slug")
    if HelpCenter.objects.filter(slug=slug).exclude(pk=help_center.pk if help_center else None).exists():
        raise Conflict(_("This address is taken."), code="slug_taken", field="slug")
    return slug


def do_save_help_center(actor: Membership, help_center: HelpCenter | None, *, brand: Brand, slug: str, name: str,
                        default_language: str = "en", languages: list[str] | None = None,
                        is_public: bool = True) -> HelpCenter:
    """Create a brand's help center, or change one (one per brand)."""
    require(actor, Permission.ADMIN_WORKSPACE)
    _same_workspace(actor.workspace_id, brand, "brand")
    slug = check_slug(slug, help_center)
    name = (name or "").strip()[:200] or brand.name
    default_language = check_language(default_language, "default_language")
    enabled = [check_language(code, "languages") for code in (languages or [])]
    enabled = list(dict.fromkeys([default_language, *enabled]))
    other = HelpCenter.objects.filter(brand=brand).exclude(pk=help_center.pk if help_center else None)
    if other.exists():
        raise Conflict(_("This brand has a help center already."), code="help_center_exists", field="brand")
    created = help_center is None
    help_center = help_center or HelpCenter(workspace_id=actor.workspace_id)
    help_center.brand, help_center.slug, help_center.name = brand, slug, name
    help_center.default_language, help_center.languages, help_center.is_public = default_language, enabled, is_public
    help_center.save()
    record_change("help_center.created" if created else "help_center.updated", help_center,
                  {"slug": slug, "brand_id": brand.pk, "languages": enabled, "is_public": is_public}, actor=actor)
    return help_center


def _save_place(actor: Membership, row: Category | Section, *, titles: dict[str, str],
                descriptions: dict[str, str] | None, position: int, details: dict[str, Any]) -> None:
    """Save a category or a section: its titles and descriptions per language and its position; audited."""
    created = row.pk is None
    row.titles = check_titles(titles)
    row.descriptions = {check_language(k, "descriptions"): (v or "")[:1000] for k, v in (descriptions or {}).items()}
    row.position = max(0, int(position))
    row.save()
    name = "kb_category" if isinstance(row, Category) else "kb_section"
    record_change(f"{name}.{'created' if created else 'updated'}", row,
                  {"titles": row.titles, "position": row.position, **details}, actor=actor)


def do_save_category(actor: Membership, category: Category | None, *, help_center: HelpCenter,
                     titles: dict[str, str], descriptions: dict[str, str] | None = None,
                     position: int = 0) -> Category:
    require(actor, Permission.KNOWLEDGE_PUBLISH)
    _same_workspace(actor.workspace_id, help_center, "help_center")
    category = category or Category(workspace_id=actor.workspace_id)
    category.help_center = help_center
    _save_place(actor, category, titles=titles, descriptions=descriptions, position=position,
                details={"help_center_id": help_center.pk})
    return category


def do_save_section(actor: Membership, section: Section | None, *, category: Category, titles: dict[str, str],
                    descriptions: dict[str, str] | None = None, position: int = 0) -> Section:
    require(actor, Permission.KNOWLEDGE_PUBLISH)
    _same_workspace(actor.workspace_id, category, "category")
    section = section or Section(workspace_id=actor.workspace_id)
    section.category = category
    _save_place(actor, section, titles=titles, descriptions=descriptions, position=position,
                details={"category_id": category.pk})
    return section


def _refuse_unless_empty(count: int, message: str, code: str) -> None:
    """A 409 naming what is still inside (`message` is the ngettext for `count`, with %(count)d)."""
    if count:
        raise Conflict(message % {"count": count}, code=code)


def check_help_center_empty(help_center: HelpCenter) -> None:
    n = help_center.categories.count()
    _refuse_unless_empty(n, ngettext("This help center still has %(count)d category: delete it first.",
                                     "This help center still has %(count)d categories: delete them first.", n),
                         "help_center_not_empty")


def check_category_empty(category: Category) -> None:
    n = category.sections.count()
    _refuse_unless_empty(n, ngettext("This category still has %(count)d section: move or delete it first.",
                                     "This category still has %(count)d sections: move or delete them first.", n),
                         "category_not_empty")


def check_section_empty(section: Section) -> None:
    n = section.articles.count()
    _refuse_unless_empty(n, ngettext("This section still has %(count)d article: move or delete it first.",
                                     "This section still has %(count)d articles: move or delete them first.", n),
                         "section_not_empty")


def do_delete_help_center(actor: Membership, help_center: HelpCenter) -> None:
    """Close a brand's help center (its pages are gone at once); only an empty one (no categories)."""
    require(actor, Permission.ADMIN_WORKSPACE)
    check_help_center_empty(help_center)
    record_change("help_center.deleted", help_center, {"slug": help_center.slug, "brand_id": help_center.brand_id},
                  actor=actor)
    help_center.delete()


def do_delete_category(actor: Membership, category: Category) -> None:
    require(actor, Permission.KNOWLEDGE_PUBLISH)
    check_category_empty(category)
    record_change("kb_category.deleted", category, {"titles": category.titles}, actor=actor)
    category.delete()


def do_delete_section(actor: Membership, section: Section) -> None:
    require(actor, Permission.KNOWLEDGE_PUBLISH)
    check_section_empty(section)
    record_change("kb_section.deleted", section, {"titles": section.titles}, actor=actor)
    section.delete()


# ── articles and translations ────────────────────────────────────────────────────────────────────────────
def _render_into(translation: ArticleTranslation, title: str, body: str, body_format: str) -> None:
    translation.title, translation.body_source, translation.body_format = title, body, body_format
    translation.slug = rendering.slugify(title)
    translation.body_html = rendering.to_html(body, body_format)
    translation.body_text = rendering.to_text(translation.body_html)


def _new_version(translation: ArticleTranslation, author: Membership | None, note: str = "") -> ArticleVersion:
    last = translation.versions.aggregate(n=Max("number"))["n"] or 0
    return ArticleVersion.objects.create(
        workspace_id=translation.workspace_id, translation=translation, number=last + 1, title=translation.title,
        body_source=translation.body_source, body_format=translation.body_format, author=author, note=note[:200])


def _create_article(workspace_id: int, actor: Membership | None, *, section: Section | None, language: str,
                    title: str, body: str, body_format: str, internal_only: bool, source_url: str = "",
                    labels: list[str] | None = None) -> ArticleTranslation:
    language, title, body = check_language(language), check_title(title), check_body(body, body_format)
    labels = check_labels(labels or [])
    _same_workspace(workspace_id, section, "section")
    article = Article.objects.create(workspace_id=workspace_id, section=section, internal_only=internal_only,
                                     author=actor, source_url=source_url[:500])
    ArticleLabel.objects.bulk_create(ArticleLabel(workspace_id=workspace_id, article=article, name=n) for n in labels)
    translation = ArticleTranslation(workspace_id=workspace_id, article=article, language=language,
                                     updated_by=actor)
    _render_into(translation, title, body, body_format)
    translation.save()
    _new_version(translation, actor)
    record_change("article.created", article, {"language": language, "title": title, "internal_only": internal_only,
                                               "section_id": section.pk if section else None,
                                               "source_url": source_url}, actor=actor)
    _updated(article, "created")
    return translation


def do_create_article(actor: Membership, *, section: Section | None, language: str, title: str, body: str = "",
                      body_format: str = BodyFormat.MARKDOWN, internal_only: bool = False,
                      labels: list[str] | None = None) -> ArticleTranslation:
    """A new article with its first translation, a draft (version 1)."""
    require(actor, Permission.KNOWLEDGE_EDIT)
    return _create_article(actor.workspace_id, actor, section=section, language=language, title=title, body=body,
                           body_format=body_format, internal_only=internal_only, labels=labels)


def do_create_draft_from_text(workspace: Workspace, *, title: str, body_markdown: str, language: str,
                              source_url: str = "", actor: Membership | None = None) -> ArticleTranslation:
    """A draft article, not filed in any section yet, from text written elsewhere (a community answer promoted
    by an agent). `actor`, when given, must hold `knowledge.edit`."""
    if actor is not None:
        require(actor, Permission.KNOWLEDGE_EDIT)
        _same_workspace(workspace.pk, actor, "actor")
    return _create_article(workspace.pk, actor, section=None, language=language, title=title, body=body_markdown,
                           body_format=BodyFormat.MARKDOWN, internal_only=False, source_url=source_url)


def do_update_article(actor: Membership, article: Article, *, section: Any = UNCHANGED,
                      internal_only: bool | None = None, position: int | None = None,
                      labels: list[str] | None = None) -> Article:
    """Change where an article is filed, whether only agents see it, its position or labels. Moving or hiding a
    published article changes the public site: it needs `knowledge.publish`."""
    require(actor, Permission.KNOWLEDGE_EDIT)
    published = article.translations.filter(state=State.PUBLISHED).exists()
    changes: dict[str, Any] = {}
    if section is not UNCHANGED and section != article.section:
        _same_workspace(actor.workspace_id, section, "section")
        if published and section is None:
            raise Conflict(_("Unpublish the article before taking it out of its section."), code="article_published")
        changes["section_id"] = section.pk if section else None
        article.section = section
    if internal_only is not None and internal_only != article.internal_only:
        changes["internal_only"] = article.internal_only = internal_only
    if position is not None and position != article.position:
        changes["position"] = article.position = max(0, int(position))
    if published and set(changes) & {"section_id", "internal_only"}:
        require(actor, Permission.KNOWLEDGE_PUBLISH)
    if labels is not None:
        clean = check_labels(labels)
        if sorted(clean) != sorted(article.labels.values_list("name", flat=True)):
            article.labels.all().delete()
            ArticleLabel.objects.bulk_create(ArticleLabel(workspace_id=article.workspace_id, article=article, name=n)
                                             for n in clean)
            changes["labels"] = clean
    if not changes:
        return article
    article.save()
    record_change("article.updated", article, changes, actor=actor)
    _updated(article, *changes)
    return article


def do_delete_article(actor: Membership, article: Article) -> None:
    """Delete an article for good: its translations with their versions and readers' feedback, its files (the
    stored files once the transaction commits), labels, relations and search documents; audited with what it
    held. Publishes `article.deleted` so the help center's pages and webhooks follow; search and the answer bot
    stop finding it in this transaction. Needs `knowledge.publish` (published or not, history goes with it)."""
    require(actor, Permission.KNOWLEDGE_PUBLISH)
    contents = article_contents(article)
    translations = contents["translations"]
    files = [attachment.file.name for attachment in article.attachments.all() if attachment.file]
    record_change("article.deleted", article, {
        "titles": {t["language"]: t["title"] for t in translations}, "section_id": article.section_id,
        "versions": contents["versions"], "files": contents["files"], "feedback": contents["feedback"]}, actor=actor)
    ids = [t["pk"] for t in translations]
    do_remove(Kind.ARTICLE, ids)
    article_id = article.pk
    ArticleRelation.objects.filter(Q(from_article=article) | Q(to_article=article)).delete()
    article.delete()  # translations, versions, feedback, labels and file rows go with it (cascade)
    storage = ArticleAttachment._meta.get_field("file").storage
    transaction.on_commit(lambda: [storage.delete(name) for name in files])
    publish(ArticleDeleted(workspace_id=actor.workspace_id, article_id=article_id, translation_ids=ids,
                           languages=[t["language"] for t in translations],
                           published=[t["language"] for t in translations if t["state"] == State.PUBLISHED]))


def do_save_translation(actor: Membership, article: Article, language: str, *, title: str, body: str,
                        body_format: str = BodyFormat.MARKDOWN, note: str = "") -> ArticleTranslation:
    """Write one language of an article: a new translation starts as a draft; each save that changes the title
    or body is a new version (with `note`, such as "machine-translated from en"). A published translation stays
    published: editing it needs `knowledge.publish`."""
    require(actor, Permission.KNOWLEDGE_EDIT)
    language, title, body = check_language(language), check_title(title), check_body(body, body_format)
    translation = article.translations.filter(language=language).first()
    created = translation is None
    if translation is None:
        translation = ArticleTranslation(workspace_id=article.workspace_id, article=article, language=language)
    elif (translation.title, translation.body_source, translation.body_format) == (title, body, body_format):
        return translation
    if translation.state == State.PUBLISHED:
        require(actor, Permission.KNOWLEDGE_PUBLISH)
    if translation.state == State.ARCHIVED:
        raise Conflict(_("This translation is archived: restore it as a draft first."), code="translation_archived")
    _render_into(translation, title, body, body_format)
    translation.updated_by = actor
    translation.save()
    version = _new_version(translation, actor, note)
    record_change("article_translation.created" if created else "article_translation.updated", translation,
                  {"article_id": article.pk, "language": language, "version": version.number, "title": title},
                  actor=actor)
    if translation.state == State.PUBLISHED:
        _announce(ArticlePublished, translation)
    else:
        _updated(article, "translation")
    return translation


def _announce(event: type[ArticlePublished | ArticleUnpublished], translation: ArticleTranslation) -> None:
    """`article.published` or `article.unpublished` for one translation."""
    publish(event(workspace_id=translation.workspace_id, article_id=translation.article_id,
                  translation_id=translation.pk, language=translation.language,
                  translation_ids=_translation_ids(translation.article)))


def _set_state(actor: Membership, translation: ArticleTranslation, state: str, action: str) -> ArticleTranslation:
    before = translation.state
    translation.state, translation.updated_by = state, actor
    if state == State.PUBLISHED:
        translation.published_at = now()
    translation.save(update_fields=["state", "updated_by", "published_at", "updated_at"])
    record_change(action, translation, {"article_id": translation.article_id, "language": translation.language,
                                        "from": before, "to": state}, actor=actor)
    return translation


def do_submit_for_review(actor: Membership, translation: ArticleTranslation) -> ArticleTranslation:
    require(actor, Permission.KNOWLEDGE_EDIT)
    if translation.state != State.DRAFT:
        raise Conflict(_("Only a draft can be submitted for review."), code="invalid_state")
    _set_state(actor, translation, State.REVIEW, "article_translation.submitted")
    _updated(translation.article, "state")
    return translation


def do_publish(actor: Membership, translation: ArticleTranslation) -> ArticleTranslation:
    """Publish a draft or reviewed translation. The article must be filed in a section."""
    require(actor, Permission.KNOWLEDGE_PUBLISH)
    if translation.state not in (State.DRAFT, State.REVIEW):
        raise Conflict(_("Only a draft or a translation in review can be published."), code="invalid_state")
    if translation.article.section_id is None:
        raise Conflict(_("File the article in a section before publishing it."), code="article_unfiled")
    _set_state(actor, translation, State.PUBLISHED, "article_translation.published")
    _announce(ArticlePublished, translation)
    return translation


def _leave(actor: Membership, translation: ArticleTranslation, state: str, action: str) -> ArticleTranslation:
    """Move a translation to draft or the archive: `article.unpublished` when it was on the help center."""
    was_published = translation.state == State.PUBLISHED
    _set_state(actor, translation, state, action)
    if was_published:
        _announce(ArticleUnpublished, translation)
    else:
        _updated(translation.article, "state")
    return translation


def do_unpublish(actor: Membership, translation: ArticleTranslation) -> ArticleTranslation:
    """Take a published translation off the help center, or bring an archived one back, as a draft."""
    require(actor, Permission.KNOWLEDGE_PUBLISH)
    if translation.state not in (State.PUBLISHED, State.ARCHIVED):
        raise Conflict(_("Only a published or archived translation can go back to draft."), code="invalid_state")
    return _leave(actor, translation, State.DRAFT, "article_translation.unpublished")


def do_archive(actor: Membership, translation: ArticleTranslation) -> ArticleTranslation:
    require(actor, Permission.KNOWLEDGE_PUBLISH)
    if translation.state == State.ARCHIVED:
        raise Conflict(_("This translation is archived already."), code="invalid_state")
    return _leave(actor, translation, State.ARCHIVED, "article_translation.archived")


def do_restore_version(actor: Membership, version: ArticleVersion) -> ArticleTranslation:
    """Bring back an old version's title and body, saved as a new version (history is never rewritten)."""
    translation = version.translation
    restored = do_save_translation(actor, translation.article, translation.language, title=version.title,
                                   body=version.body_source, body_format=version.body_format)
    latest = restored.versions.order_by("-number").first()
    if latest is not None and latest.number != version.number:
        latest.note = f"restored from version {version.number}"
        latest.save(update_fields=["note", "updated_at"])
    record_change("article_version.restored", restored, {"article_id": restored.article_id,
                                                         "language": restored.language, "from": version.number},
                  actor=actor)
    return restored


# ── attachments, labels, related articles ────────────────────────────────────────────────────────────────
def do_attach(actor: Membership, article: Article, *, filename: str, content_type: str,
              content: bytes) -> ArticleAttachment:
    """Store a file of an article (size and type limits of conversation attachments)."""
    require(actor, Permission.KNOWLEDGE_EDIT)
    name, ctype = check_attachment(filename, content_type, len(content))
    attachment = ArticleAttachment(workspace_id=article.workspace_id, article=article, key=uuid.uuid4().hex,
                                   filename=name, content_type=ctype, size=len(content),
                                   sha256=hashlib.sha256(content).hexdigest(), uploaded_by=actor)
    attachment.file.save(uuid.uuid4().hex, ContentFile(content), save=False)
    attachment.save()
    record_change("article.attached", article, {"attachment_id": attachment.pk, "filename": name,
                                                "size": len(content)}, actor=actor)
    return attachment


def do_delete_attachment(actor: Membership, attachment: ArticleAttachment) -> None:
    require(actor, Permission.KNOWLEDGE_EDIT)
    record_change("article.detached", attachment.article, {"attachment_id": attachment.pk,
                                                           "filename": attachment.filename}, actor=actor)
    attachment.file.delete(save=False)
    attachment.delete()


def do_set_labels(actor: Membership, article: Article, labels: list[str]) -> Article:
    return do_update_article(actor, article, labels=labels)


def do_relate(actor: Membership, article: Article, other: Article) -> None:
    """Show `other` as related to `article` and the other way round."""
    require(actor, Permission.KNOWLEDGE_EDIT)
    _same_workspace(article.workspace_id, other, "article")
    if other.pk == article.pk:
        raise ValidationFailed(_("An article cannot be related to itself."), code="invalid_article", field="article")
    if ArticleRelation.objects.filter(from_article=article, to_article=other).exists():
        return
    article.related.add(other, through_defaults={"workspace_id": article.workspace_id})
    record_change("article.related", article, {"related_id": other.pk}, actor=actor)
    _updated(article, "related")


def do_unrelate(actor: Membership, article: Article, other: Article) -> None:
    require(actor, Permission.KNOWLEDGE_EDIT)
    if not ArticleRelation.objects.filter(from_article=article, to_article=other).exists():
        return
    article.related.remove(other)
    record_change("article.unrelated", article, {"related_id": other.pk}, actor=actor)
    _updated(article, "related")


# ── readers ──────────────────────────────────────────────────────────────────────────────────────────────
def do_record_feedback(translation: ArticleTranslation, *, helpful: bool, comment: str = "",
                       contact: Contact | None = None) -> ArticleFeedback:
    """A reader's answer to "was this helpful?" on a published translation (the help center and the answer bot
    call this; opening a conversation from the comment is the portal's `do_submit_request`)."""
    if translation.state != State.PUBLISHED:
        raise Conflict(_("This article is not published."), code="article_not_published")
    _same_workspace(translation.workspace_id, contact, "contact")
    comment = mask_text(translation.workspace, (comment or "").strip()[:MAX_COMMENT])  # as at ingest
    return ArticleFeedback.objects.create(workspace_id=translation.workspace_id, translation=translation,
                                          helpful=bool(helpful), comment=comment, contact=contact)
