"""/api/v1/knowledge: help centers, categories, sections, articles and their translations, the workflow
(submit, publish, unpublish, archive), versions (list, diff, restore), related articles, attachments and search.

Every member who sees conversations reads the knowledge base; agents (`knowledge.edit`) write drafts; publishers
(`knowledge.publish`) publish and organise; help centers need `admin.workspace`. The permission is checked
before any lookup, so a refused role gets 403 whatever the ids.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import page, paginate
from threadline.conversations.attachments import attachment_response
from threadline.conversations.schemas import AttachmentIn
from threadline.core.errors import NotFound
from threadline.core.schemas import Id
from threadline.knowledge import actions
from threadline.knowledge import queries as q
from threadline.knowledge.schemas import (
    ArticleDetailOut,
    ArticleFileOut,
    ArticleFilter,
    ArticleHitOut,
    ArticleIn,
    ArticlePage,
    ArticlePatch,
    ArticleSearchQuery,
    CategoryIn,
    CategoryOut,
    DiffOut,
    DiffQuery,
    HelpCenterIn,
    HelpCenterOut,
    SectionIn,
    SectionOut,
    TranslationIn,
    TranslationOut,
    VersionOut,
)
from threadline.tenancy.models import Brand, Membership
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["knowledge"])
TRANSLATION = "/articles/{article_id}/translations/{language}"


def _allowed(request: HttpRequest, permission: str) -> Membership:
    me = actor(request)
    require(me, permission)
    return me


# ── help centers ─────────────────────────────────────────────────────────────────────────────────────────
def _brand(me: Membership, brand_id: int) -> Brand:
    brand = Brand.objects.filter(workspace_id=me.workspace_id, pk=brand_id).first()
    if brand is None:
        raise NotFound(_("No such brand."), code="brand_not_found")
    return brand


@router.get("/help-centers", response=responses(list[HelpCenterOut]), summary="List help centers")
def help_centers(request: HttpRequest) -> Any:
    return list(q.list_help_centers(actor(request))[:200])


@router.post("/help-centers", response=responses(HelpCenterOut, 201), summary="Create a brand's help center")
def create_help_center(request: HttpRequest, payload: HelpCenterIn) -> tuple[int, Any]:
    me = _allowed(request, Permission.ADMIN_WORKSPACE)
    with transaction.atomic():
        fields = payload.model_dump(exclude={"brand_id"})
        return Status(201, actions.do_save_help_center(me, None, brand=_brand(me, payload.brand_id), **fields))


@router.get("/help-centers/{help_center_id}", response=responses(HelpCenterOut), summary="Get a help center")
def help_center(request: HttpRequest, help_center_id: Id) -> Any:
    return q.access_help_center(actor(request), help_center_id)


@router.put("/help-centers/{help_center_id}", response=responses(HelpCenterOut), summary="Replace a help center")
def replace_help_center(request: HttpRequest, help_center_id: Id, payload: HelpCenterIn) -> Any:
    me = _allowed(request, Permission.ADMIN_WORKSPACE)
    with transaction.atomic():
        fields = payload.model_dump(exclude={"brand_id"})
        return actions.do_save_help_center(me, q.access_help_center(me, help_center_id),
                                           brand=_brand(me, payload.brand_id), **fields)


@router.delete("/help-centers/{help_center_id}", response=responses(None, 204),
               summary="Close a help center that has no categories")
def delete_help_center(request: HttpRequest, help_center_id: Id) -> tuple[int, None]:
    me = _allowed(request, Permission.ADMIN_WORKSPACE)
    with transaction.atomic():
        actions.do_delete_help_center(me, q.access_help_center(me, help_center_id))
    return Status(204, None)


# ── categories and sections: the same five routes each ─────────────────────────────────────────────────
@dataclass(frozen=True)
class _Place:
    """A level of the structure under a parent (a category in a help center, a section in a category)."""

    noun: str  # "category": the path parameter is `category_id`
    plural: str  # "categories": the path
    schema_in: type
    schema_out: type
    rows: Callable[[Membership], QuerySet[Any]]
    order: tuple[str, ...]
    access: Callable[[Membership, int], Any]
    parent: str  # the payload's `<parent>_id` and the save action's keyword
    access_parent: Callable[[Membership, int], Any]
    save: Callable[..., Any]
    delete: Callable[[Membership, Any], None]


def _view(name: str, view: Callable[..., Any], **params: Any) -> Callable[..., Any]:
    """`view` as django-ninja sees a hand-written one: its name (the OpenAPI operation id) and the typed
    parameters after the request (the path's `<noun>_id`, the body's schema)."""
    view.__name__ = view.__qualname__ = name
    view.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=HttpRequest),
        *(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=kind) for key, kind in params.items())])
    return view


def _place_routes(place: _Place) -> None:
    """List, create, get, replace and delete (an empty one) for one level of the structure."""
    key, path = f"{place.noun}_id", f"/{place.plural}"
    one = f"{path}/{{{key}}}"

    def fields(me: Membership, payload: Any) -> dict[str, Any]:
        parent = place.access_parent(me, getattr(payload, f"{place.parent}_id"))
        return {place.parent: parent, "titles": payload.titles, "descriptions": payload.descriptions,
                "position": payload.position}

    def listing(request: HttpRequest) -> Any:
        return list(place.rows(actor(request)).order_by(*place.order)[:1000])

    def create(request: HttpRequest, payload: Any) -> tuple[int, Any]:
        me = _allowed(request, Permission.KNOWLEDGE_PUBLISH)
        with transaction.atomic():
            return Status(201, place.save(me, None, **fields(me, payload)))

    def get(request: HttpRequest, **ids: int) -> Any:
        return place.access(actor(request), ids[key])

    def replace(request: HttpRequest, payload: Any, **ids: int) -> Any:
        me = _allowed(request, Permission.KNOWLEDGE_PUBLISH)
        with transaction.atomic():
            return place.save(me, place.access(me, ids[key]), **fields(me, payload))

    def delete(request: HttpRequest, **ids: int) -> tuple[int, None]:
        me = _allowed(request, Permission.KNOWLEDGE_PUBLISH)
        with transaction.atomic():
            place.delete(me, place.access(me, ids[key]))
        return Status(204, None)

    noun, out = place.noun, place.schema_out
    router.get(path, response=responses(list[out]), summary=f"List {place.plural}")(
        _view(place.plural, listing))
    router.post(path, response=responses(out, 201), summary=f"Create a {noun}")(
        _view(f"create_{noun}", create, payload=place.schema_in))
    router.get(one, response=responses(out), summary=f"Get a {noun}")(_view(noun, get, **{key: Id}))
    router.put(one, response=responses(out), summary=f"Replace a {noun}")(
        _view(f"replace_{noun}", replace, **{key: Id}, payload=place.schema_in))
    router.delete(one, response=responses(None, 204), summary=f"Delete an empty {noun}")(
        _view(f"delete_{noun}", delete, **{key: Id}))


_place_routes(_Place("category", "categories", CategoryIn, CategoryOut, q.list_categories,
                     ("help_center_id", "position", "pk"), q.access_category, "help_center", q.access_help_center,
                     actions.do_save_category, actions.do_delete_category))
_place_routes(_Place("section", "sections", SectionIn, SectionOut, q.list_sections,
                     ("category_id", "position", "pk"), q.access_section, "category", q.access_category,
                     actions.do_save_section, actions.do_delete_section))


# ── articles ─────────────────────────────────────────────────────────────────────────────────────────────
@router.get("/articles", response=responses(ArticlePage), summary="List articles (filter by state, language, "
                                                                  "label, section)")
def articles(request: HttpRequest, filters: Query[ArticleFilter]) -> dict[str, Any]:
    rows = q.list_articles(actor(request), state=filters.state, language=filters.language, label=filters.label,
                           section_id=filters.section_id)
    items, next_cursor = paginate(rows, cursor=filters.cursor, limit=filters.limit)
    return page(items, next_cursor)


@router.post("/articles", response=responses(TranslationOut, 201),
             summary="Write a new article: its first translation, a draft")
def create_article(request: HttpRequest, payload: ArticleIn) -> tuple[int, Any]:
    me = _allowed(request, Permission.KNOWLEDGE_EDIT)
    with transaction.atomic():
        section = q.access_section(me, payload.section_id) if payload.section_id else None
        translation = actions.do_create_article(
            me, section=section, language=payload.language, title=payload.title, body=payload.body,
            body_format=payload.body_format, internal_only=payload.internal_only, labels=payload.labels)
    return Status(201, q.access_translation(me, translation.article_id, translation.language))


@router.get("/articles/{article_id}", response=responses(ArticleDetailOut), summary="Get an article")
def article(request: HttpRequest, article_id: Id) -> Any:
    return q.access_article(actor(request), article_id)


@router.patch("/articles/{article_id}", response=responses(ArticleDetailOut),
              summary="Move, hide from customers, reorder or label an article")
def update_article(request: HttpRequest, article_id: Id, payload: ArticlePatch) -> Any:
    me = _allowed(request, Permission.KNOWLEDGE_EDIT)
    with transaction.atomic():
        found = q.access_article(me, article_id)
        section: Any = actions.UNCHANGED
        if payload.unfile:
            section = None
        elif payload.section_id is not None:
            section = q.access_section(me, payload.section_id)
        actions.do_update_article(me, found, section=section, internal_only=payload.internal_only,
                                  position=payload.position, labels=payload.labels)
    return q.access_article(me, article_id)


@router.delete("/articles/{article_id}", response=responses(None, 204),
               summary="Delete an article with its translations, versions, files and feedback")
def delete_article(request: HttpRequest, article_id: Id) -> tuple[int, None]:
    me = _allowed(request, Permission.KNOWLEDGE_PUBLISH)
    with transaction.atomic():
        actions.do_delete_article(me, q.access_article(me, article_id))
    return Status(204, None)


@router.post("/articles/{article_id}/related/{other_id}", response=responses(ArticleDetailOut),
             summary="Show two articles as related to each other")
def relate(request: HttpRequest, article_id: Id, other_id: Id) -> Any:
    me = _allowed(request, Permission.KNOWLEDGE_EDIT)
    with transaction.atomic():
        actions.do_relate(me, q.access_article(me, article_id), q.access_article(me, other_id))
    return q.access_article(me, article_id)


@router.delete("/articles/{article_id}/related/{other_id}", response=responses(ArticleDetailOut),
               summary="Stop showing two articles as related")
def unrelate(request: HttpRequest, article_id: Id, other_id: Id) -> Any:
    me = _allowed(request, Permission.KNOWLEDGE_EDIT)
    with transaction.atomic():
        actions.do_unrelate(me, q.access_article(me, article_id), q.access_article(me, other_id))
    return q.access_article(me, article_id)


@router.post("/articles/{article_id}/attachments", response=responses(ArticleFileOut, 201),
             summary="Attach a file (images are shown inline through its url)")
def attach(request: HttpRequest, article_id: Id, payload: AttachmentIn) -> tuple[int, Any]:
    me = _allowed(request, Permission.KNOWLEDGE_EDIT)
    with transaction.atomic():
        return Status(201, actions.do_attach(me, q.access_article(me, article_id), filename=payload.filename,
                                             content_type=payload.content_type, content=payload.content()))


@router.get("/attachments/{attachment_id}", response=responses(None), summary="Download an article's file",
            openapi_extra={"responses": {200: {"description": "The file", "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}})
def download(request: HttpRequest, attachment_id: Id) -> FileResponse:
    return attachment_response(q.access_attachment(actor(request), attachment_id), inline_images=True)  # type: ignore[arg-type]


@router.delete("/attachments/{attachment_id}", response=responses(None, 204), summary="Delete an article's file")
def delete_attachment(request: HttpRequest, attachment_id: Id) -> tuple[int, None]:
    me = _allowed(request, Permission.KNOWLEDGE_EDIT)
    with transaction.atomic():
        actions.do_delete_attachment(me, q.access_attachment(me, attachment_id))
    return Status(204, None)


# ── translations and their workflow ──────────────────────────────────────────────────────────────────────
@router.get(TRANSLATION, response=responses(TranslationOut), summary="Get one language of an article")
def translation(request: HttpRequest, article_id: Id, language: str) -> Any:
    return q.access_translation(actor(request), article_id, language)


@router.put(TRANSLATION, response=responses(TranslationOut),
            summary="Write one language of an article (a new version; a new language starts as a draft)")
def save_translation(request: HttpRequest, article_id: Id, language: str, payload: TranslationIn) -> Any:
    me = _allowed(request, Permission.KNOWLEDGE_EDIT)
    with transaction.atomic():
        saved = actions.do_save_translation(me, q.access_article(me, article_id), language, title=payload.title,
                                            body=payload.body, body_format=payload.body_format)
    return q.access_translation(me, article_id, saved.language)


def _transition(request: HttpRequest, article_id: int, language: str, permission: str, action: Any) -> Any:
    me = _allowed(request, permission)
    with transaction.atomic():
        action(me, q.access_translation(me, article_id, language))
    return q.access_translation(me, article_id, language)


@router.post(f"{TRANSLATION}/submit", response=responses(TranslationOut), summary="Submit a draft for review")
def submit(request: HttpRequest, article_id: Id, language: str) -> Any:
    return _transition(request, article_id, language, Permission.KNOWLEDGE_EDIT, actions.do_submit_for_review)


@router.post(f"{TRANSLATION}/publish", response=responses(TranslationOut), summary="Publish a translation")
def publish(request: HttpRequest, article_id: Id, language: str) -> Any:
    return _transition(request, article_id, language, Permission.KNOWLEDGE_PUBLISH, actions.do_publish)


@router.post(f"{TRANSLATION}/unpublish", response=responses(TranslationOut),
             summary="Take a translation off the help center (or out of the archive) as a draft")
def unpublish(request: HttpRequest, article_id: Id, language: str) -> Any:
    return _transition(request, article_id, language, Permission.KNOWLEDGE_PUBLISH, actions.do_unpublish)


@router.post(f"{TRANSLATION}/archive", response=responses(TranslationOut), summary="Archive a translation")
def archive(request: HttpRequest, article_id: Id, language: str) -> Any:
    return _transition(request, article_id, language, Permission.KNOWLEDGE_PUBLISH, actions.do_archive)


@router.get(f"{TRANSLATION}/versions", response=responses(list[VersionOut]), summary="A translation's versions")
def versions(request: HttpRequest, article_id: Id, language: str) -> Any:
    return list(q.access_translation(actor(request), article_id, language).versions.order_by("-number")[:500])


@router.get(f"{TRANSLATION}/versions/{{number}}", response=responses(VersionOut), summary="One version")
def version(request: HttpRequest, article_id: Id, language: str, number: Id) -> Any:
    return q.access_version(actor(request), article_id, language, number)


@router.get(f"{TRANSLATION}/versions/{{number}}/diff", response=responses(DiffOut),
            summary="The line diff from an older version (default: the one before) to this one")
def diff(request: HttpRequest, article_id: Id, language: str, number: Id, query: Query[DiffQuery]) -> Any:
    me = actor(request)
    new = q.access_version(me, article_id, language, number)
    old = q.access_version(me, article_id, language, query.against or max(1, number - 1))
    return {"from_number": old.number, "to_number": new.number, "lines": q.version_diff(old, new)}


@router.post(f"{TRANSLATION}/versions/{{number}}/restore", response=responses(TranslationOut),
             summary="Restore a version: its content saved as a new version")
def restore(request: HttpRequest, article_id: Id, language: str, number: Id) -> Any:
    me = _allowed(request, Permission.KNOWLEDGE_EDIT)
    with transaction.atomic():
        actions.do_restore_version(me, q.access_version(me, article_id, language, number))
    return q.access_translation(me, article_id, language)


# ── search ───────────────────────────────────────────────────────────────────────────────────────────────
@router.get("/search", response=responses(list[ArticleHitOut]), summary="Search articles, best first")
def search(request: HttpRequest, query: Query[ArticleSearchQuery]) -> Any:
    me = _allowed(request, Permission.VIEW)
    return q.search_articles(me.workspace_id, query.q, language=query.language, brand_id=query.brand_id,
                             include_internal=query.include_internal, limit=query.limit)
