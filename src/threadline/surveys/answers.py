"""Recognising a survey answer among inbound messages: a pressed score button (`metadata["choice"]`), or a bare
number while the contact's survey is pending and they have no conversation open. Conversations' threading asks
`claim` first, so the answer lands on the solved conversation without reopening it (and no bot starts)."""

from __future__ import annotations

from typing import Any

from threadline.channels.base import InboundMessage
from threadline.channels.models import Channel
from threadline.contacts.models import Contact
from threadline.conversations.models import ACTIVE_STATUSES, Conversation
from threadline.surveys import wording
from threadline.surveys.actions import pending_request
from threadline.surveys.models import SCALES, SurveyRequest

RULE = "survey_answer"


def answer_in(contact_id: int, metadata: dict[str, Any], text: str) -> tuple[SurveyRequest, int] | None:
    """The pending request this message answers and its score."""
    picked = wording.parse_choice(metadata.get("choice"))
    if picked is not None:
        request = pending_request(contact_id, request_id=picked[0])
        if request is None or not SCALES[request.kind][0] <= picked[1] <= SCALES[request.kind][1]:
            return None
        return request, picked[1]
    bare = text.strip()
    if not bare.isdigit() or len(bare) > 2:
        return None
    request = pending_request(contact_id)
    if request is None:
        return None
    low, high = SCALES[request.kind]
    if not low <= int(bare) <= high:
        return None
    if Conversation.objects.filter(contact_id=contact_id, status__in=ACTIVE_STATUSES, merged_into__isnull=True,
                                   thread_key="").exists():
        return None  # a number inside an open conversation is part of that conversation
    return request, int(bare)


def claim(contact: Contact, channel: Channel, item: InboundMessage) -> tuple[Conversation, dict[str, Any]] | None:
    """Threading's question: does this inbound message answer a survey? (conversation, reason) when it does."""
    found = answer_in(contact.pk, item.metadata or {}, item.text)
    if found is None:
        return None
    request, score = found
    conversation = request.conversation
    while conversation.merged_into_id:
        conversation = conversation.merged_into
    return conversation, {"rule": RULE, "conversation_id": conversation.pk, "request_id": request.pk, "score": score}
