"""The objects behind search hits, for the agent workspace: loaded in the actor's workspace, highlighted."""

from __future__ import annotations

from typing import Any

from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, Message
from threadline.search.highlight import Part, highlight
from threadline.search.models import Kind
from threadline.search.queries import AGENT_KINDS, AGENT_VISIBILITIES, Found, find
from threadline.tenancy.models import Membership


def load(workspace_id: int, found: Found) -> Found:
    """Fetch the objects behind the hits (in the workspace; hits whose object has gone are dropped)."""
    by_kind: dict[str, list[int]] = {}
    for hit in found.hits:
        by_kind.setdefault(hit.kind, []).append(hit.object_id)
    loaders = {
        Kind.MESSAGE: Message.objects.select_related("conversation__contact", "channel"),
        Kind.CONVERSATION: Conversation.objects.select_related("contact"),
        Kind.CONTACT: Contact.objects.filter(merged_into__isnull=True).prefetch_related("identities"),
    }
    for kind, ids in by_kind.items():
        if kind in loaders:
            for obj in loaders[kind].filter(workspace_id=workspace_id, pk__in=ids):
                found.objects[(kind, obj.pk)] = obj
    found.hits = [h for h in found.hits if (h.kind, h.object_id) in found.objects]
    return found


def parts_of(found: Found, text: str, *, whole: bool = False) -> list[Part]:
    return highlight(text, found.groups, prefix_last=found.prefix_last, whole=whole)


def agent_search(actor: Membership, query: str, *, per_kind: int) -> dict[str, Any]:
    """The agent workspace's search: each kind's best `per_kind` objects, messages with highlighted snippets."""
    result: dict[str, Any] = {"corrected": False}
    for kind in AGENT_KINDS:
        found = load(actor.workspace_id, find(actor.workspace_id, query, kinds=[kind], visibilities=AGENT_VISIBILITIES,
                                             limit=per_kind))
        objects = [found.objects[(h.kind, h.object_id)] for h in found.hits]
        result[kind] = objects
        result["corrected"] = result["corrected"] or found.corrected
        if kind == Kind.MESSAGE:
            result["snippets"] = [(m, parts_of(found, m.text)) for m in objects]
        if kind == Kind.CONVERSATION:
            result["subjects"] = [(c, parts_of(found, c.subject, whole=True)) for c in objects]
    return result
