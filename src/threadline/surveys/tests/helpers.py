"""Switching a survey on and solving a conversation as an agent does, for the surveys' tests."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from threadline.conversations.actions import do_update_conversation
from threadline.conversations.models import Conversation
from threadline.surveys.actions import do_save_survey
from threadline.surveys.models import Survey
from threadline.tenancy.models import Membership


def enable_survey(admin: Membership, kind: str = "csat", **fields: Any) -> Survey:
    with transaction.atomic():
        return do_save_survey(admin, kind, enabled=True, **fields)


def solve(admin: Membership, conversation: Conversation) -> None:
    with transaction.atomic():
        do_update_conversation(admin, Conversation.objects.get(pk=conversation.pk), status="solved")
