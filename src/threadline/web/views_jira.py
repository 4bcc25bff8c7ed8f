"""The customer panel's Jira forms: file an issue, link one, unlink (jira.linking does the work)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from threadline.conversations.queries import access_conversation
from threadline.jira.actions import do_unlink_issue
from threadline.jira.linking import file_issue, link_existing
from threadline.jira.queries import access_link
from threadline.tenancy.permissions import Permission, require
from threadline.web.session import agent_view, wants_json


def _done(request: HttpRequest, body: dict[str, str], conversation_id: int) -> HttpResponse:
    return JsonResponse(body) if wants_json(request) else redirect(f"/app/c/{conversation_id}/")


@require_POST
@agent_view
def file_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    link, _connection = file_issue(request.agent, conversation_id, request.POST.get("summary", ""),  # type: ignore[attr-defined]
                                   request.POST.get("description", ""))
    return _done(request, {"issue_key": link.issue_key}, conversation_id)


@require_POST
@agent_view
def link_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    link, _connection = link_existing(request.agent, conversation_id, request.POST.get("issue_key", ""))  # type: ignore[attr-defined]
    return _done(request, {"issue_key": link.issue_key}, conversation_id)


@require_POST
@agent_view
def unlink_view(request: HttpRequest, conversation_id: int, link_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.ASSIGN)
    with transaction.atomic():
        do_unlink_issue(agent, access_link(access_conversation(agent, conversation_id, summary=False), link_id))
    return _done(request, {}, conversation_id)
