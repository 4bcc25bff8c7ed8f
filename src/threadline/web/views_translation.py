"""Machine translation in the workspace: a customer's message in the agent's language (fetched by the page for
messages the cache does not have yet), the composer's "translate before sending" preview, and an article's
machine-translated drafts. The provider is called outside any transaction; the writes then run in one."""

from __future__ import annotations

from urllib.parse import quote

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from threadline.conversations.queries import access_conversation, access_message
from threadline.knowledge.queries import access_article
from threadline.tenancy.permissions import Permission, require
from threadline.translation import actions
from threadline.translation.queries import configured
from threadline.web.session import agent_view


@require_POST
@agent_view
def message_view(request: HttpRequest, message_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.VIEW)
    shown = actions.translate_message(agent, access_message(agent, message_id))
    return JsonResponse({"message_id": message_id, "text": shown.text, "source": shown.source, "target": shown.target})


@require_POST
@agent_view
def preview_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.REPLY)  # before reading the form: a refusal is a 403 whatever was sent
    done = actions.preview_reply(agent, access_conversation(agent, conversation_id), request.POST.get("text", ""))
    return JsonResponse({"translated": done.texts[0], "source": done.source, "target": done.target})


@require_POST
@agent_view
def article_view(request: HttpRequest, article_id: int, language: str) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.KNOWLEDGE_EDIT)
    drafts = actions.machine_drafts(agent, access_article(agent, article_id), language)
    provider = configured(agent.workspace_id)
    with transaction.atomic():
        saved = actions.do_save_machine_drafts(agent, access_article(agent, article_id), language, drafts,
                                               provider.provider if provider else "")
    if request.headers.get("X-Requested-With") == "fetch":
        return JsonResponse({"drafts": [{"language": t.language, "translation_id": t.pk} for t in saved]})
    return redirect(f"/app/knowledge/{article_id}/{quote(language)}?machine={len(saved)}")
