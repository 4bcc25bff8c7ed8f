"""/api/v1/language: detect the language of a text, and correct a conversation's language."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.conversations.queries import access_conversation, access_message
from threadline.core.schemas import Id
from threadline.language import detection
from threadline.language.actions import do_correct_language, workspace_languages
from threadline.language.schemas import LanguageCorrectionIn, LanguageDetectIn, LanguageDetectOut, LanguageOut

router = Router(tags=["language"])


@router.post("/detect", response=responses(LanguageDetectOut), summary="Detect a text's language among the workspace's")
def detect(request: HttpRequest, payload: LanguageDetectIn) -> dict[str, Any]:
    languages = workspace_languages(actor(request).workspace)
    found = detection.detect(payload.text, languages)
    return {"language": found.language, "confidence": found.confidence, "method": found.method,
            "languages": languages}


@router.put("/conversations/{conversation_id}", response=responses(LanguageOut),
            summary="Correct the conversation's language (and optionally one message's)")
def correct(request: HttpRequest, conversation_id: Id, payload: LanguageCorrectionIn) -> dict[str, Any]:
    agent = actor(request)
    with transaction.atomic():
        conversation = access_conversation(agent, conversation_id)
        message = access_message(agent, payload.message_id) if payload.message_id is not None else None
        do_correct_language(agent, conversation, payload.language, message)
    return {"conversation_id": conversation.pk, "language": conversation.language,
            "message_id": message.pk if message else None, "message_language": message.language if message else None}
