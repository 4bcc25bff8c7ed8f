"""`GET /api/v1/conversations/{id}/reachability`: the channels a reply can go out on now, and why not.

The composer calls it before sending (with the draft as `text`, for the SMS segment count): each active
channel with `reachable`, a stable `code` and a translated `reason` when it is not (no identity, outside
WhatsApp's 24-hour window so only a template, no consent), and channel details (window end, templates).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.conversations.queries import access_conversation
from threadline.conversations.reachability import reachable_channels
from threadline.core.schemas import Id

router = Router(tags=["conversations"])


class ReachabilityOut(Schema):
    channel_id: int
    kind: str
    name: str
    reachable: bool
    code: str
    reason: str
    address: str
    is_default: bool
    details: dict[str, Any]


@router.get("/conversations/{conversation_id}/reachability", response=responses(list[ReachabilityOut]))
def reachability(request: HttpRequest, conversation_id: Id, text: str = "") -> list[dict[str, Any]]:
    """Every active channel, the default reply channel first, with why a free-text reply cannot go out."""
    member = actor(request)
    conversation = access_conversation(member, conversation_id)
    return [asdict(r) for r in reachable_channels(conversation, text=text[:2000])]
