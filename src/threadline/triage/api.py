"""/api/v1/triage: the workspace's triage settings (read: conversations.view; save: admin.automations) and a
preview of the verdict a post would get (conversations.view)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.core.crypto import decrypt_json
from threadline.tenancy.permissions import Permission, require
from threadline.triage.actions import SettingsInput, do_save_triage_settings
from threadline.triage.engine import triage_post
from threadline.triage.models import TriageSettings
from threadline.triage.providers import SECRET_FIELDS
from threadline.triage.queries import access_settings
from threadline.triage.schemas import PreviewIn, TriageSettingsIn, TriageSettingsOut, VerdictOut
from threadline.triage.verdict import PublicPost, Verdict

router = Router(tags=["triage"])


def settings_out(row: TriageSettings) -> dict[str, Any]:
    config = decrypt_json(row.provider_config) if row.provider_config else {}
    shown = {name: (bool(value) if name in SECRET_FIELDS else value) for name, value in config.items()}
    return {"urgent_words": row.urgent_words, "topic_words": row.topic_words, "spam_words": row.spam_words,
            "abuse_words": row.abuse_words, "high_reach": row.high_reach, "praise_reach": row.praise_reach,
            "complaint_below": row.complaint_below, "praise_above": row.praise_above, "provider": row.provider,
            "provider_config": shown}


def verdict_out(verdict: Verdict) -> dict[str, Any]:
    return {"category": verdict.category, "sentiment": verdict.sentiment, "priority": verdict.priority,
            "decision": verdict.decision, "topics": list(verdict.topics),
            "reasons": [{"code": getattr(r, "code", ""), "text": str(r)} for r in verdict.reasons]}


@router.get("/settings", response=responses(TriageSettingsOut), summary="The workspace's triage settings")
def get_settings(request: HttpRequest) -> dict[str, Any]:
    return settings_out(access_settings(actor(request)))


@router.put("/settings", response=responses(TriageSettingsOut),
            summary="Replace the triage settings (admin.automations); an empty secret keeps the stored one")
def put_settings(request: HttpRequest, payload: TriageSettingsIn) -> dict[str, Any]:
    agent = actor(request)
    data = payload.model_dump()
    data = SettingsInput(**{**data, **{k: tuple(data[k]) for k in ("urgent_words", "topic_words", "spam_words",
                                                                      "abuse_words")}})
    with transaction.atomic():
        row = do_save_triage_settings(agent, data)
    return settings_out(row)


@router.post("/preview", response=responses(VerdictOut), summary="The verdict a public post would get")
def preview(request: HttpRequest, payload: PreviewIn) -> dict[str, Any]:
    agent = actor(request)
    require(agent, Permission.VIEW)
    return verdict_out(triage_post(PublicPost(workspace_id=agent.workspace_id, **payload.model_dump())))
