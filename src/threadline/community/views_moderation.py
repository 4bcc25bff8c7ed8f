"""Moderation at /app/community (permission `community.moderate`): the queue of held posts and open reports,
recently hidden posts, forums and categories; and the POST routes behind the moderator tools the public topic
page shows to agents (approve, hide, unhide, spam, move to private; lock, unlock, hide, unhide, merge, promote;
an agent's public answer). Each checks the permission before any lookup (403, then 404 for a foreign id)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from threadline.community import actions, queries
from threadline.core.errors import ValidationFailed
from threadline.tenancy.permissions import Permission
from threadline.tenancy.queries import access_brand, list_brands
from threadline.web.admin_forms import screen, submit
from threadline.web.views_admin import admin_screen

URL = "/app/community"


def _back(request: HttpRequest) -> str:
    wanted = request.POST.get("next", "")
    if wanted.startswith(("/community/", "/app/community")) and "//" not in wanted and "\\" not in wanted:
        return wanted
    return URL


def _screen(request: HttpRequest, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    context: dict[str, Any] = {"queue": queries.moderation_queue(agent),
                               "forums": list(queries.list_forums(agent).prefetch_related("categories")),
                               "brands": list(list_brands(agent)), "form": request.POST if error else {}}
    return screen(request, "community/moderation.html", context, error=error)


def _run(request: HttpRequest, change: Any, done: str) -> HttpResponse:
    return submit(request, change, done, _back(request), lambda exc: _screen(request, exc))


@require_GET
@admin_screen(Permission.COMMUNITY_MODERATE)
def moderation_view(request: HttpRequest) -> HttpResponse:
    return _screen(request)


@require_POST
@admin_screen(Permission.COMMUNITY_MODERATE)
def create_forum_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST

    def change() -> None:
        brand = access_brand(agent, int(data["brand"])) if data.get("brand", "").isdigit() else None
        actions.do_create_forum(agent, name=data.get("name", ""), slug=data.get("slug", ""), brand=brand,
                                description=data.get("description", ""))

    return _run(request, change, _("Forum created."))


@require_POST
@admin_screen(Permission.COMMUNITY_MODERATE)
def create_category_view(request: HttpRequest, forum_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    forum = queries.access_forum(agent, forum_id)
    return _run(request, lambda: actions.do_create_category(
        agent, forum, name=request.POST.get("name", ""), description=request.POST.get("description", "")),
        _("Category added."))


@require_POST
@admin_screen(Permission.COMMUNITY_MODERATE)
def post_view(request: HttpRequest, post_id: int, operation: str) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    post = queries.access_post(agent, post_id)
    if operation == "private":
        return _run(request, lambda: actions.do_move_to_private(agent, post),
                    _("The post continues as a private conversation."))
    return _run(request, lambda: actions.do_moderate_post(agent, post, operation), _("Done."))


@require_POST
@admin_screen(Permission.COMMUNITY_MODERATE)
def topic_view(request: HttpRequest, topic_id: int, operation: str) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    topic = queries.access_topic(agent, topic_id)
    if operation == "reply":
        return _run(request, lambda: actions.do_agent_reply(agent, topic, body=request.POST.get("body", "")),
                    _("Answer posted."))
    if operation == "promote":
        return _run(request, lambda: actions.do_promote_to_article(agent, topic),
                    _("A draft article was created from the accepted answer."))
    into = None
    if operation == "merge":
        raw = request.POST.get("into", "").strip().rstrip("/").rsplit("/", 1)[-1]
        if not raw.isdigit():
            return _screen(request, ValidationFailed(_("Give the number of the topic to merge into."),
                                                     code="invalid_merge_target", field="into"))
        into = queries.access_topic(agent, int(raw))
    return _run(request, lambda: actions.do_moderate_topic(agent, topic, operation, into=into), _("Done."))


@require_POST
@admin_screen(Permission.COMMUNITY_MODERATE)
def report_view(request: HttpRequest, report_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    report = queries.access_report(agent, report_id)
    return _run(request, lambda: actions.do_resolve_report(agent, report), _("Report dismissed."))


@require_POST
@admin_screen(Permission.COMMUNITY_MODERATE)
def badges_view(request: HttpRequest, member_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    member = queries.access_member(agent, member_id)
    return _run(request, lambda: actions.do_set_badges(agent, member, request.POST.getlist("badges")),
                _("Badges saved."))
