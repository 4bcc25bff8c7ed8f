"""The public community at /community/<forum_slug>/: reading needs no sign-in and no JavaScript; posting,
voting, reporting and following need a member (a one-time email link) or an agent session.

Every form is a POST with Django's CSRF token that redirects back (POST → redirect → GET); fetch requests
(`Accept: application/json`) get JSON. Refusals are the error's status with `{code, message}` (JSON) or a
short page, never a 500. Language: `?lang=xx` picks one of the five (kept in the language cookie), otherwise
the browser's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from threadline.community import actions, mails, queries
from threadline.community.models import Forum, ReportReason, TopicState
from threadline.community.session import Viewer, forget, remember, viewer_for
from threadline.contacts.identities import normalize_email
from threadline.core.client_address import client_address
from threadline.core.errors import NotFound, PermissionDenied, ThreadlineError, ValidationFailed
from threadline.core.throttle import check_rate

LANGUAGES = [code for code, _name in settings.LANGUAGES]
SIGN_IN_REQUESTS_PER_HOUR = 10


class MailUnavailable(ThreadlineError):
    status = 503
    code = "mail_unavailable"


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "") or request.headers.get("X-Requested-With") == "fetch"


def _language(request: HttpRequest) -> str | None:
    chosen = request.GET.get("lang")
    if chosen in LANGUAGES:
        translation.activate(chosen)
        request.LANGUAGE_CODE = chosen  # type: ignore[attr-defined]
        return chosen
    return None


def error_page(request: HttpRequest, exc: ThreadlineError, forum: Forum | None = None) -> HttpResponse:
    if wants_json(request):
        body: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.field:
            body["field"] = exc.field
        response = JsonResponse(body, status=exc.status)
    else:
        response = render(request, "community/error.html",
                          {"forum": forum, "error": exc, "languages": settings.LANGUAGES}, status=exc.status)
    if getattr(exc, "retry_after", None):
        response["Retry-After"] = str(exc.retry_after)
    return response


def forum_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolve the forum and the viewer, activate the language, run POSTs in one transaction, answer errors."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        chosen = _language(request)
        forum = None
        try:
            forum = queries.forum_by_slug(slug)
            viewer = viewer_for(request, forum)
            if request.method == "POST":
                with transaction.atomic():
                    response = view(request, forum, viewer, *args, **kwargs)
            else:
                response = view(request, forum, viewer, *args, **kwargs)
        except ThreadlineError as exc:
            response = error_page(request, exc, forum)
        if chosen:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, chosen, max_age=365 * 24 * 3600, samesite="Lax")
        return response

    return wrapped


def _int(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(field)s must be a number.") % {"field": field}, code="invalid", field=field) from None


def _page(request: HttpRequest, forum: Forum, viewer: Viewer, template: str, context: dict[str, Any],
          status: int = 200) -> HttpResponse:
    base = {"forum": forum, "viewer": viewer, "categories": list(queries.categories(forum)),
            "languages": settings.LANGUAGES, "path": request.path}
    return render(request, template, {**base, **context}, status=status)


def _member(viewer: Viewer) -> Any:
    """The member a write acts as: the signed-in member, or the agent's public face."""
    if viewer.agent is not None:
        if not viewer.moderator:
            raise PermissionDenied(_("Your role does not allow answering in the community."),
                                   code="permission_denied")
        return actions.do_member_for_agent(viewer.agent)
    if viewer.member is None:
        raise PermissionDenied(_("Sign in to take part."), code="not_signed_in")
    return viewer.member


def _done(request: HttpRequest, back: str, body: dict[str, Any] | None = None) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": True, **(body or {})})
    return redirect(back)


def POST_TOOLS() -> list[tuple[str, str]]:  # noqa: N802 - reads as the constant it is, translated per request
    return [("approve", _("Approve")), ("hide", _("Hide")), ("unhide", _("Unhide")), ("spam", _("Spam: hide and ban")),
            ("private", _("Move to a private conversation"))]


def TOPIC_TOOLS() -> list[tuple[str, str]]:  # noqa: N802
    return [("lock", _("Lock")), ("unlock", _("Unlock")), ("hide", _("Hide topic")),
            ("promote", _("Promote the accepted answer to a draft article"))]


def topic_path(forum: Forum, topic_id: int) -> str:
    return f"/community/{forum.slug}/t/{topic_id}/"


# ── reading ──────────────────────────────────────────────────────────────────────────────────────────
@require_GET
@forum_page
def home_view(request: HttpRequest, forum: Forum, viewer: Viewer) -> HttpResponse:
    page = max(1, _int(request.GET.get("page", "1"), "page"))
    topics = queries.recent_topics(forum, page=page)
    return _page(request, forum, viewer, "community/home.html",
                 {"topics": topics[:queries.PAGE], "more": len(topics) > queries.PAGE, "page": page})


@require_GET
@forum_page
def category_view(request: HttpRequest, forum: Forum, viewer: Viewer, category_id: int) -> HttpResponse:
    category = queries.category_of(forum, category_id)
    page = max(1, _int(request.GET.get("page", "1"), "page"))
    topics = queries.recent_topics(forum, category, page=page)
    return _page(request, forum, viewer, "community/category.html",
                 {"category": category, "topics": topics[:queries.PAGE], "more": len(topics) > queries.PAGE,
                  "page": page})


@require_GET
@forum_page
def topic_view(request: HttpRequest, forum: Forum, viewer: Viewer, topic_id: int) -> HttpResponse:
    topic = queries.topic_for_reading(forum, topic_id, viewer.member)
    if topic.state == TopicState.MERGED and topic.merged_into_id:
        return redirect(topic_path(forum, topic.merged_into_id), permanent=True)
    posts = queries.topic_posts(topic, viewer.member)
    first, replies = (posts[0], posts[1:]) if posts else (None, [])
    accepted = next((p for p in replies if p.pk == topic.accepted_answer_id), None)
    votes = queries.votes_of(viewer.member, posts)
    for post in posts:
        post.my_vote = votes.get(post.pk, 0)  # type: ignore[attr-defined]
    return _page(request, forum, viewer, "community/topic.html", {
        "topic": topic, "first": first, "replies": replies, "accepted": accepted, "reasons": ReportReason.choices,
        "post_tools": POST_TOOLS() if viewer.moderator else [], "topic_tools": TOPIC_TOOLS() if viewer.moderator else [],
        "may_accept": viewer.moderator or (viewer.member is not None and viewer.member.pk == topic.author_id),
        "following": viewer.member is not None and topic.follows.filter(member=viewer.member).exists(),
        "held_notice": request.GET.get("held") == "1"})


@require_GET
@forum_page
def search_view(request: HttpRequest, forum: Forum, viewer: Viewer) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()[:200]
    found = queries.search_topics(forum, query) if query else queries.Found([], "")
    return _page(request, forum, viewer, "community/search.html", {"found": found, "q": query})


# ── writing ──────────────────────────────────────────────────────────────────────────────────────────
@require_http_methods(["GET", "POST"])
@forum_page
def new_topic_view(request: HttpRequest, forum: Forum, viewer: Viewer) -> HttpResponse:
    if not viewer.signed_in:
        return redirect(f"/community/{forum.slug}/signin?next={request.path}")
    if request.method != "POST":
        return _page(request, forum, viewer, "community/new_topic.html",
                     {"form": {"category": request.GET.get("category", "")}})
    member = _member(viewer)
    category = queries.category_of(forum, _int(request.POST.get("category"), "category"))
    try:
        with transaction.atomic():
            topic = actions.do_start_topic(member, category, title=request.POST.get("title", ""),
                                           body=request.POST.get("body", ""))
    except ValidationFailed as exc:
        if wants_json(request):
            raise
        return _page(request, forum, viewer, "community/new_topic.html", {"form": request.POST, "error": exc},
                     status=exc.status)
    back = topic_path(forum, topic.pk) + ("" if topic.approved else "?held=1")
    return _done(request, back, {"topic_id": topic.pk, "held": not topic.approved})


@require_POST
@forum_page
def reply_view(request: HttpRequest, forum: Forum, viewer: Viewer, topic_id: int) -> HttpResponse:
    topic = queries.topic_for_reading(forum, topic_id, viewer.member)
    member = _member(viewer)
    post = actions.do_reply(member, topic, body=request.POST.get("body", ""))
    back = topic_path(forum, topic.pk) + ("?held=1" if post.held_for_moderation else f"#post-{post.pk}")
    return _done(request, back, {"post_id": post.pk, "held": post.held_for_moderation})


@require_POST
@forum_page
def vote_view(request: HttpRequest, forum: Forum, viewer: Viewer, post_id: int) -> HttpResponse:
    post = queries.post_in(forum, post_id)
    value = {"up": 1, "down": -1}.get(request.POST.get("value", ""), 0)
    score = actions.do_vote(_member(viewer), post, value)
    return _done(request, topic_path(forum, post.topic_id) + f"#post-{post.pk}", {"score": score})


@require_POST
@forum_page
def report_view(request: HttpRequest, forum: Forum, viewer: Viewer, post_id: int) -> HttpResponse:
    post = queries.post_in(forum, post_id)
    actions.do_report(_member(viewer), post, reason=request.POST.get("reason", ""), note=request.POST.get("note", ""))
    return _done(request, topic_path(forum, post.topic_id) + "?reported=1")


@require_POST
@forum_page
def accept_view(request: HttpRequest, forum: Forum, viewer: Viewer, topic_id: int) -> HttpResponse:
    topic = queries.topic_for_reading(forum, topic_id, viewer.member)
    if not viewer.signed_in:
        raise PermissionDenied(_("Sign in to take part."), code="not_signed_in")
    raw = request.POST.get("post", "")
    post = queries.post_in(forum, _int(raw, "post")) if raw else None
    actions.do_accept_answer(topic, post, member=viewer.member, agent=viewer.agent if viewer.moderator else None)
    return _done(request, topic_path(forum, topic.pk))


@require_POST
@forum_page
def follow_view(request: HttpRequest, forum: Forum, viewer: Viewer, topic_id: int) -> HttpResponse:
    topic = queries.topic_for_reading(forum, topic_id, viewer.member)
    actions.do_follow(_member(viewer), topic, follow=request.POST.get("follow") != "0")
    return _done(request, topic_path(forum, topic.pk))


# ── signing in ───────────────────────────────────────────────────────────────────────────────────────
@require_http_methods(["GET", "POST"])
@forum_page
def sign_in_view(request: HttpRequest, forum: Forum, viewer: Viewer) -> HttpResponse:
    if request.method != "POST":
        return _page(request, forum, viewer, "community/signin.html", {"form": {}})
    email = request.POST.get("email", "")
    check_rate(f"community:signin:{client_address(request)}", SIGN_IN_REQUESTS_PER_HOUR, window=3600,
               message=_("Too many sign-in requests from this address; try again later."))
    try:
        with transaction.atomic():
            raw = actions.do_request_sign_in(forum, email, request.POST.get("name", ""))
    except ValidationFailed as exc:
        return _page(request, forum, viewer, "community/signin.html", {"form": request.POST, "error": exc},
                     status=exc.status)
    # after the commit: the link must exist before the mail does
    sent = mails.send_sign_in(forum, normalize_email(email), raw, translation.get_language() or "en")
    if not sent:
        raise MailUnavailable(_("Signing in by email is not available right now; try again later."))
    return _page(request, forum, viewer, "community/signin_sent.html", {})


@require_http_methods(["GET", "POST"])
@forum_page
def sign_in_link_view(request: HttpRequest, forum: Forum, viewer: Viewer, raw: str) -> HttpResponse:
    """GET shows a button (mail scanners that open links do not use it up); POST signs in."""
    if request.method != "POST":
        return _page(request, forum, viewer, "community/signin_confirm.html", {"raw": raw})
    member = actions.do_sign_in(forum, raw, language=translation.get_language() or "en")
    remember(request, member)
    return redirect(f"/community/{forum.slug}/")


@require_POST
@forum_page
def sign_out_view(request: HttpRequest, forum: Forum, viewer: Viewer) -> HttpResponse:
    forget(request, forum)
    return redirect(f"/community/{forum.slug}/")


@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    _language(request)
    follow_id = mails.follow_of_token(token)
    if follow_id is None:
        return error_page(request, NotFound(_("This link is not valid."), code="link_invalid"))
    if request.method != "POST":
        return render(request, "community/unsubscribe.html", {"done": False, "forum": None})
    with transaction.atomic():
        actions.do_unsubscribe(follow_id)
    return render(request, "community/unsubscribe.html", {"done": True, "forum": None})
