"""/api/v1/translation: the workspace's provider, glossary and usage (admins), a customer message in the
agent's language, a reply previewed and sent in the customer's language, and machine-translated article drafts.
Provider failures answer 502 `{code, message}` (`translation_failed`, `translation_auth_failed`,
`translation_quota_exhausted`), its throttling 429 with Retry-After; no provider 409
`translation_not_configured`, the monthly budget used up 409 `translation_budget_exhausted`."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router

from threadline.api.auth import actor
from threadline.api.errors import ERROR_STATUSES, ErrorOut, responses
from threadline.channels.queries import access_channel
from threadline.conversations.queries import access_conversation, access_message
from threadline.core.schemas import Id
from threadline.knowledge.queries import access_article
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require
from threadline.translation import actions, queries
from threadline.translation.schemas import (
    GlossaryTermIn,
    GlossaryTermOut,
    MachineDraftsIn,
    MachineDraftsOut,
    MessageTranslationOut,
    TranslatedReplyIn,
    TranslatedReplyOut,
    TranslationPreviewIn,
    TranslationPreviewOut,
    TranslationSettingsIn,
    TranslationSettingsOut,
)

router = Router(tags=["translation"])


def provider_responses(schema: Any) -> dict[Any, Any]:
    return {200: schema, ERROR_STATUSES | {502}: ErrorOut}


def settings_out(agent: Membership) -> dict[str, Any]:
    settings = queries.settings_for(agent.workspace_id)
    usage = queries.usage_of(agent.workspace_id)
    budget = settings.monthly_budget if settings else 0
    return {"provider": settings.provider if settings else "", "base_url": settings.base_url if settings else "",
            "has_key": bool(settings and settings.secret), "monthly_budget": budget,
            "glossary_version": settings.glossary_version if settings else 1,
            "usage": {"month": usage.month, "characters": usage.characters,
                      "cached_characters": usage.cached_characters, "requests": usage.requests, "budget": budget,
                      "remaining": max(0, budget - usage.characters) if budget else None}}


@router.get("/settings", response=responses(TranslationSettingsOut), summary="The provider, budget and this month's usage")
def get_settings(request: HttpRequest) -> dict[str, Any]:
    agent = actor(request)
    require(agent, Permission.ADMIN_WORKSPACE)
    return settings_out(agent)


@router.put("/settings", response=responses(TranslationSettingsOut), summary="Choose the provider and the monthly budget")
def put_settings(request: HttpRequest, payload: TranslationSettingsIn) -> dict[str, Any]:
    agent = actor(request)
    with transaction.atomic():
        actions.do_save_settings(agent, provider=payload.provider, base_url=payload.base_url,
                                 api_key=payload.api_key, monthly_budget=payload.monthly_budget)
    return settings_out(agent)


@router.get("/glossary", response=responses(list[GlossaryTermOut]), summary="The glossary of product terms")
def list_terms(request: HttpRequest) -> list[Any]:
    agent = actor(request)
    require(agent, Permission.ADMIN_WORKSPACE)
    return queries.glossary_of(agent.workspace_id)


@router.post("/glossary", response=responses(GlossaryTermOut), summary="Add a term or change its mappings")
def save_term(request: HttpRequest, payload: GlossaryTermIn) -> Any:
    with transaction.atomic():
        return actions.do_save_glossary_term(actor(request), payload.term, payload.translations)


@router.delete("/glossary/{term_id}", response=responses(None, 204), summary="Remove a term")
def delete_term(request: HttpRequest, term_id: Id) -> tuple[int, None]:
    agent = actor(request)
    require(agent, Permission.ADMIN_WORKSPACE)
    with transaction.atomic():
        actions.do_delete_glossary_term(agent, queries.access_glossary_term(agent, term_id))
    return 204, None


@router.post("/messages/{message_id}", response=provider_responses(MessageTranslationOut),
             summary="A customer's message in the calling agent's language")
def translate_message(request: HttpRequest, message_id: Id) -> dict[str, Any]:
    agent = actor(request)
    require(agent, Permission.VIEW)
    shown = actions.translate_message(agent, access_message(agent, message_id))
    return {"message_id": message_id, "source": shown.source, "target": shown.target, "text": shown.text}


@router.post("/conversations/{conversation_id}/preview", response=provider_responses(TranslationPreviewOut),
             summary="What a reply written in the agent's language becomes in the customer's")
def preview(request: HttpRequest, conversation_id: Id, payload: TranslationPreviewIn) -> dict[str, Any]:
    agent = actor(request)
    require(agent, Permission.REPLY)
    done = actions.preview_reply(agent, access_conversation(agent, conversation_id), payload.text)
    return {"text": payload.text, "translated": done.texts[0], "source": done.source, "target": done.target,
            "provider": done.provider}


@router.post("/conversations/{conversation_id}/replies", response=provider_responses(TranslatedReplyOut),
             summary="Send a reply translated into the customer's language (the original is kept)")
def reply(request: HttpRequest, conversation_id: Id, payload: TranslatedReplyIn) -> dict[str, Any]:
    agent = actor(request)
    require(agent, Permission.REPLY)
    done = actions.preview_reply(agent, access_conversation(agent, conversation_id), payload.text)
    with transaction.atomic():
        conversation = access_conversation(agent, conversation_id)
        channel = access_channel(agent, payload.channel_id) if payload.channel_id else None
        message = actions.do_send_translated_reply(agent, conversation, payload.text, done, channel=channel)
    return {"message_id": message.pk, "status": message.status, "text": message.text,
            "original": payload.text.strip(), "language": message.language}


@router.post("/articles/{article_id}/drafts", response=provider_responses(MachineDraftsOut),
             summary="Machine-translate an article into draft translations for review")
def article_drafts(request: HttpRequest, article_id: Id, payload: MachineDraftsIn) -> dict[str, Any]:
    agent = actor(request)
    require(agent, Permission.KNOWLEDGE_EDIT)
    article = access_article(agent, article_id)
    drafts = actions.machine_drafts(agent, article, payload.source_language)
    provider = queries.configured(agent.workspace_id)
    with transaction.atomic():
        saved = actions.do_save_machine_drafts(agent, access_article(agent, article_id), payload.source_language,
                                               drafts, provider.provider if provider else "")
    return {"drafts": [{"language": t.language, "translation_id": t.pk, "state": t.state} for t in saved]}
