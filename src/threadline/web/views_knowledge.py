"""The knowledge base's screens in /app/knowledge (server-rendered, no script needed): the article list with
filters and search, the editor (a language tab per translation, Markdown or HTML with a preview, the workflow
buttons the member's role allows, the article's section, labels, related articles and files), the version
history with diffs and restore, and the structure (help centers, categories, sections).

Every member who sees conversations reads; `knowledge.edit` writes drafts; `knowledge.publish` publishes and
organises; a help center is a workspace setting (`admin.workspace`). POST views check the permission first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, urlencode

from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from threadline.api.pagination import decode_cursor, encode_cursor
from threadline.conversations.attachments import attachment_response
from threadline.core.errors import Conflict, NotFound, ValidationFailed
from threadline.knowledge import actions
from threadline.knowledge import queries as q
from threadline.knowledge.models import Article, BodyFormat, Category, HelpCenter, Section, State
from threadline.knowledge.rendering import to_html
from threadline.tenancy.models import Brand, Membership
from threadline.tenancy.permissions import Permission, has_permission, require
from threadline.translation.queries import machine_translated
from threadline.web.session import agent_view

PAGE = 50
LANGUAGES = ("en", "he", "fa", "th", "cs")


def _agent(request: HttpRequest) -> Membership:
    return request.agent  # type: ignore[attr-defined,no-any-return]


def _allowed(request: HttpRequest, permission: str) -> Membership:
    agent = _agent(request)
    require(agent, permission)
    return agent


def _frame(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    agent = _agent(request)
    base = {"agent": agent, "current": request.path.rstrip("/"),
            "can_edit": has_permission(agent, Permission.KNOWLEDGE_EDIT),
            "can_publish": has_permission(agent, Permission.KNOWLEDGE_PUBLISH),
            "can_set_up": has_permission(agent, Permission.ADMIN_WORKSPACE)}
    return render(request, template, {**base, **context}, status=status)


def _languages(agent: Membership) -> list[str]:
    """The languages the workspace's help centers are in, else the five the product ships."""
    found: list[str] = []
    for help_center in q.list_help_centers(agent):
        found += [help_center.default_language, *help_center.languages]
    return list(dict.fromkeys(found or LANGUAGES))


def _sections(agent: Membership) -> list[Any]:
    return list(q.list_sections(agent).order_by("category__help_center__name", "category__position",
                                                "category_id", "position", "pk"))


# ── the list ─────────────────────────────────────────────────────────────────────────────────────────────
@require_GET
@agent_view
def list_view(request: HttpRequest) -> HttpResponse:
    agent = _agent(request)
    params = {k: (request.GET.get(k) or "").strip()[:200] for k in ("state", "language", "label", "section", "q")}
    state = params["state"] if params["state"] in State.values else None
    rows = q.list_articles(agent, state=state, language=params["language"] or None, label=params["label"] or None,
                           section_id=int(params["section"]) if params["section"].isdigit() else None)
    hits = q.search_articles(agent.workspace_id, params["q"], language=params["language"] or None,
                             include_internal=True, limit=20) if params["q"] else []
    cursor = request.GET.get("cursor")
    if cursor:
        rows = rows.filter(pk__lt=decode_cursor(cursor))
    articles = list(rows.order_by("-pk")[:PAGE + 1])
    context = {
        "params": params, "hits": hits, "articles": articles[:PAGE], "states": State.choices,
        "languages": _languages(agent), "sections": _sections(agent),
        "next_cursor": encode_cursor(articles[PAGE - 1].pk) if len(articles) > PAGE else None,
        "query": urlencode({k: v for k, v in params.items() if v}),
    }
    return _frame(request, "web/knowledge/list.html", context)


@require_POST
@agent_view
def create_view(request: HttpRequest) -> HttpResponse:
    agent = _allowed(request, Permission.KNOWLEDGE_EDIT)
    section_id = request.POST.get("section_id") or ""
    with transaction.atomic():
        section = q.access_section(agent, int(section_id)) if section_id.isdigit() else None
        translation = actions.do_create_article(
            agent, section=section, language=request.POST.get("language", ""), title=request.POST.get("title", ""),
            body="", internal_only=request.POST.get("internal_only") == "1")
    return redirect(_editor_url(translation.article_id, translation.language))


def _editor_url(article_id: int, language: str) -> str:
    return f"/app/knowledge/{article_id}/{quote(language)}"


# ── the editor ───────────────────────────────────────────────────────────────────────────────────────────
def _editor(request: HttpRequest, article_id: int, language: str, *, draft: dict[str, str] | None = None,
            preview: str | None = None, error: str = "", status: int = 200) -> HttpResponse:
    agent = _agent(request)
    article = q.access_article(agent, article_id)
    translations = {t.language: t for t in article.translations.all()}
    translation = translations.get(language)
    saved = {"title": translation.title, "body": translation.body_source,
             "body_format": translation.body_format} if translation else {"title": "", "body": "",
                                                                          "body_format": BodyFormat.MARKDOWN}
    tabs = [(code, translations.get(code)) for code in dict.fromkeys([*translations, *_languages(agent)])]
    context = {
        "article": article, "translation": translation, "language": language, "tabs": tabs,
        "form": draft or saved, "preview": preview, "error": error, "formats": BodyFormat.choices,
        "sections": _sections(agent), "labels": ", ".join(sorted(label.name for label in article.labels.all())),
        "related": [(a, next(iter(a.translations.all()), None)) for a in article.related.all()],
        "attachments": [(a, q.attachment_url(a)) for a in article.attachments.all()],
        "feedback": q.feedback_counts(translation) if translation else None,
        "comments": list(translation.feedback.exclude(comment="").select_related("contact")
                         .order_by("-pk")[:10]) if translation else [],
        "path": q.article_path(translation) if translation else "",
        "machine_translated": bool(translation) and machine_translated(translation),
    }
    context["path_label"] = unquote(context["path"])  # the address as readers see it in their browser
    return _frame(request, "web/knowledge/editor.html", context, status=status)


@agent_view
def editor_view(request: HttpRequest, article_id: int, language: str) -> HttpResponse:
    if request.method == "GET":
        return _editor(request, article_id, language)
    if request.method != "POST":
        return HttpResponse(status=405)
    agent = _allowed(request, Permission.KNOWLEDGE_EDIT)
    draft = {"title": request.POST.get("title", ""), "body": request.POST.get("body", ""),
             "body_format": request.POST.get("body_format", BodyFormat.MARKDOWN)}
    if "preview" in request.POST:
        return _editor(request, article_id, language, draft=draft, preview=to_html(
            draft["body"], draft["body_format"] if draft["body_format"] in BodyFormat.values else "markdown"))
    try:
        with transaction.atomic():
            saved = actions.do_save_translation(agent, q.access_article(agent, article_id), language,
                                                title=draft["title"], body=draft["body"],
                                                body_format=draft["body_format"])
    except (ValidationFailed, Conflict) as exc:
        return _editor(request, article_id, language, draft=draft, error=exc.message, status=exc.status)
    return redirect(_editor_url(article_id, saved.language) + "?saved=1")


TRANSITIONS = {
    "submit": (Permission.KNOWLEDGE_EDIT, actions.do_submit_for_review),
    "publish": (Permission.KNOWLEDGE_PUBLISH, actions.do_publish),
    "unpublish": (Permission.KNOWLEDGE_PUBLISH, actions.do_unpublish),
    "archive": (Permission.KNOWLEDGE_PUBLISH, actions.do_archive),
}


def _transition(request: HttpRequest, article_id: int, language: str, name: str) -> HttpResponse:
    permission, action = TRANSITIONS[name]
    agent = _allowed(request, permission)
    try:
        with transaction.atomic():
            action(agent, q.access_translation(agent, article_id, language))
    except Conflict as exc:
        return _editor(request, article_id, language, error=exc.message, status=exc.status)
    return redirect(_editor_url(article_id, language))


@require_POST
@agent_view
def submit_view(request: HttpRequest, article_id: int, language: str) -> HttpResponse:
    return _transition(request, article_id, language, "submit")


@require_POST
@agent_view
def publish_view(request: HttpRequest, article_id: int, language: str) -> HttpResponse:
    return _transition(request, article_id, language, "publish")


@require_POST
@agent_view
def unpublish_view(request: HttpRequest, article_id: int, language: str) -> HttpResponse:
    return _transition(request, article_id, language, "unpublish")


@require_POST
@agent_view
def archive_view(request: HttpRequest, article_id: int, language: str) -> HttpResponse:
    return _transition(request, article_id, language, "archive")


@require_http_methods(["GET", "POST"])
@agent_view
def delete_view(request: HttpRequest, article_id: int) -> HttpResponse:
    """Deleting an article: GET shows what goes with it (every translation, its versions, files and readers'
    feedback) and asks to confirm; POST deletes it and returns to the list."""
    agent = _allowed(request, Permission.KNOWLEDGE_PUBLISH)
    article = q.access_article(agent, article_id)
    if request.method == "POST":
        with transaction.atomic():
            actions.do_delete_article(agent, article)
        return redirect("/app/knowledge?deleted=1")
    return _frame(request, "web/knowledge/delete.html", {"article": article, "states": dict(State.choices),
                                                         **q.article_contents(article)})


def _back(request: HttpRequest, article: Article) -> HttpResponse:
    language = request.POST.get("language") or next(iter(t.language for t in article.translations.all()), "en")
    return redirect(_editor_url(article.pk, language))


@require_POST
@agent_view
def settings_view(request: HttpRequest, article_id: int) -> HttpResponse:
    agent = _allowed(request, Permission.KNOWLEDGE_EDIT)
    article = q.access_article(agent, article_id)
    section_id = request.POST.get("section_id") or ""
    labels = [label for label in request.POST.get("labels", "").split(",") if label.strip()]
    try:
        with transaction.atomic():
            actions.do_update_article(agent, article,
                                      section=q.access_section(agent, int(section_id)) if section_id.isdigit() else None,
                                      internal_only=request.POST.get("internal_only") == "1", labels=labels)
    except (ValidationFailed, Conflict) as exc:
        return _editor(request, article_id, request.POST.get("language") or "en", error=exc.message,
                       status=exc.status)
    return _back(request, article)


@require_POST
@agent_view
def related_view(request: HttpRequest, article_id: int) -> HttpResponse:
    agent = _allowed(request, Permission.KNOWLEDGE_EDIT)
    article = q.access_article(agent, article_id)
    other_id = (request.POST.get("other_id") or "").strip()
    if not other_id.isdigit():
        raise ValidationFailed(_("Give the related article's number."), code="invalid_article", field="other_id")
    other = q.access_article(agent, int(other_id))
    with transaction.atomic():
        if request.POST.get("remove") == "1":
            actions.do_unrelate(agent, article, other)
        else:
            actions.do_relate(agent, article, other)
    return _back(request, article)


@require_POST
@agent_view
def attach_view(request: HttpRequest, article_id: int) -> HttpResponse:
    agent = _allowed(request, Permission.KNOWLEDGE_EDIT)
    article = q.access_article(agent, article_id)
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationFailed(_("Choose a file to attach."), code="invalid_file", field="file")
    with transaction.atomic():
        actions.do_attach(agent, article, filename=upload.name or "file", content_type=upload.content_type or "",
                          content=upload.read())
    return _back(request, article)


@require_GET
@agent_view
def file_view(request: HttpRequest, attachment_id: int) -> FileResponse:
    return attachment_response(q.access_attachment(_agent(request), attachment_id),  # type: ignore[arg-type]
                               inline_images=True)


# ── history ──────────────────────────────────────────────────────────────────────────────────────────────
@require_GET
@agent_view
def history_view(request: HttpRequest, article_id: int, language: str) -> HttpResponse:
    agent = _agent(request)
    translation = q.access_translation(agent, article_id, language)
    versions = list(translation.versions.select_related("author__user").order_by("-number")[:500])
    number = request.GET.get("number", "")
    against = request.GET.get("against", "")
    diff, shown = [], None
    if versions:
        shown = q.access_version(agent, article_id, language, int(number)) if number.isdigit() else versions[0]
        older = int(against) if against.isdigit() else shown.number - 1
        if older >= 1:
            base = q.access_version(agent, article_id, language, older)
            diff = q.version_diff(base, shown)
            against = str(base.number)
    context = {"translation": translation, "article": translation.article, "versions": versions, "shown": shown,
               "against": against, "diff": diff}
    return _frame(request, "web/knowledge/history.html", context)


@require_POST
@agent_view
def restore_view(request: HttpRequest, article_id: int, language: str, number: int) -> HttpResponse:
    agent = _allowed(request, Permission.KNOWLEDGE_EDIT)
    try:
        with transaction.atomic():
            actions.do_restore_version(agent, q.access_version(agent, article_id, language, number))
    except Conflict as exc:
        return _editor(request, article_id, language, error=exc.message, status=exc.status)
    return redirect(f"{_editor_url(article_id, language)}/history")


# ── structure ────────────────────────────────────────────────────────────────────────────────────────────
def _structure(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    agent = _agent(request)
    help_centers = list(q.list_help_centers(agent).prefetch_related("categories__sections"))
    taken = {h.brand_id for h in help_centers}
    brands = [b for b in Brand.objects.filter(workspace_id=agent.workspace_id).order_by("name") if b.pk not in taken]
    categories = [(c, h) for h in help_centers for c in h.categories.all()]  # where a section may move
    return _frame(request, "web/knowledge/structure.html", {
        "help_centers": help_centers, "brands": brands, "languages": LANGUAGES, "all_languages": _languages(agent),
        "categories": categories, "done": request.GET.get("done", "") in ("saved", "deleted"),
        "error": error}, status=status)


@require_GET
@agent_view
def structure_view(request: HttpRequest) -> HttpResponse:
    return _structure(request)


def _structure_change(request: HttpRequest, change: Callable[[], Any], done: str = "saved") -> HttpResponse:
    """Run a change of the structure in a transaction: back to the screen, or the screen again with the reason
    it was refused (a category that still has sections...), in the member's language."""
    try:
        with transaction.atomic():
            change()
    except (ValidationFailed, Conflict) as exc:
        return _structure(request, error=exc.message, status=exc.status)
    return redirect(f"/app/knowledge/structure?done={done}")


def _titles(request: HttpRequest) -> dict[str, str]:
    return {key.removeprefix("title_"): value for key, value in request.POST.items()
            if key.startswith("title_") and value.strip()}


def _delete(request: HttpRequest, permission: str, access: Callable[[Membership, int], Any],
            delete: Callable[[Membership, Any], None], pk: int) -> HttpResponse:
    """Delete a help center, category or section (the permission first, then the member's own row); an empty
    one only: otherwise the screen again with the reason."""
    agent = _allowed(request, permission)
    row = access(agent, pk)
    return _structure_change(request, lambda: delete(agent, row), "deleted")


def _save_help_center(request: HttpRequest, help_center: HelpCenter | None) -> HttpResponse:
    agent = _allowed(request, Permission.ADMIN_WORKSPACE)
    if help_center is None:
        raw = request.POST.get("brand_id") or ""
        brand = Brand.objects.filter(workspace_id=agent.workspace_id, pk=int(raw) if raw.isdigit() else 0).first()
        if brand is None:
            raise NotFound(_("No such brand."), code="brand_not_found")
    else:
        brand = help_center.brand
    return _structure_change(request, lambda: actions.do_save_help_center(
        agent, help_center, brand=brand, slug=request.POST.get("slug", ""), name=request.POST.get("name", ""),
        default_language=request.POST.get("default_language", "en"), languages=request.POST.getlist("languages"),
        is_public=request.POST.get("is_public", "1") == "1"))


@require_POST
@agent_view
def help_center_view(request: HttpRequest) -> HttpResponse:
    return _save_help_center(request, None)


@require_POST
@agent_view
def help_center_edit_view(request: HttpRequest, help_center_id: int) -> HttpResponse:
    agent = _allowed(request, Permission.ADMIN_WORKSPACE)
    return _save_help_center(request, q.access_help_center(agent, help_center_id))


@require_POST
@agent_view
def help_center_delete_view(request: HttpRequest, help_center_id: int) -> HttpResponse:
    return _delete(request, Permission.ADMIN_WORKSPACE, q.access_help_center, actions.do_delete_help_center,
                   help_center_id)


def _position(request: HttpRequest) -> int:
    raw = (request.POST.get("position") or "0").strip()
    return min(int(raw), 1_000_000) if raw.isdigit() else 0


def _descriptions(request: HttpRequest) -> dict[str, str]:
    return {key.removeprefix("description_"): value for key, value in request.POST.items()
            if key.startswith("description_") and value.strip()}


def _parent_id(request: HttpRequest, field: str) -> int:
    raw = request.POST.get(field) or ""
    return int(raw) if raw.isdigit() else 0


def _save_category(request: HttpRequest, category: Category | None) -> HttpResponse:
    agent = _allowed(request, Permission.KNOWLEDGE_PUBLISH)
    help_center = category.help_center if category else q.access_help_center(
        agent, _parent_id(request, "help_center_id"))
    return _structure_change(request, lambda: actions.do_save_category(
        agent, category, help_center=help_center, titles=_titles(request), descriptions=_descriptions(request),
        position=_position(request)))


def _save_section(request: HttpRequest, section: Section | None) -> HttpResponse:
    agent = _allowed(request, Permission.KNOWLEDGE_PUBLISH)
    category = q.access_category(agent, _parent_id(request, "category_id"))
    return _structure_change(request, lambda: actions.do_save_section(
        agent, section, category=category, titles=_titles(request), descriptions=_descriptions(request),
        position=_position(request)))


@require_POST
@agent_view
def category_view(request: HttpRequest) -> HttpResponse:
    return _save_category(request, None)


@require_POST
@agent_view
def category_edit_view(request: HttpRequest, category_id: int) -> HttpResponse:
    return _save_category(request, q.access_category(_allowed(request, Permission.KNOWLEDGE_PUBLISH), category_id))


@require_POST
@agent_view
def category_delete_view(request: HttpRequest, category_id: int) -> HttpResponse:
    return _delete(request, Permission.KNOWLEDGE_PUBLISH, q.access_category, actions.do_delete_category, category_id)


@require_POST
@agent_view
def section_view(request: HttpRequest) -> HttpResponse:
    return _save_section(request, None)


@require_POST
@agent_view
def section_edit_view(request: HttpRequest, section_id: int) -> HttpResponse:
    return _save_section(request, q.access_section(_allowed(request, Permission.KNOWLEDGE_PUBLISH), section_id))


@require_POST
@agent_view
def section_delete_view(request: HttpRequest, section_id: int) -> HttpResponse:
    return _delete(request, Permission.KNOWLEDGE_PUBLISH, q.access_section, actions.do_delete_section, section_id)
