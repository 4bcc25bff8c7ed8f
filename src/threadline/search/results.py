"""The objects behind search hits, for the agent workspace: loaded in the actor's workspace, highlighted."""

from __future__ import annotations

from typing import Any

from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, Message
from threadline.search.highlight import Part, highlight
from threadline.search.models import Kind
from threadline.search.queries import AGENT_KINDS, AGENT_VISIBILITIES, Found, find, find_widened, widened
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def load(workspace_id: int, found: Found) -> Found:
    """Fetch the objects behind the hits (in the workspace; hits whose object has gone are dropped)."""
    by_kind: dict[str, list[int]] = {}
    for hit in found.hits:
        by_kind.setdefault(hit.kind, []).append(hit.object_id)
    loaders = {  # what the page and the API show of each hit; JSON nobody shows is not decoded
        Kind.MESSAGE: Message.objects.select_related("conversation", "channel").defer(
            "html", "metadata", "conversation__custom_fields", "conversation__sla_state", "channel__config_encrypted"),
        Kind.CONVERSATION: Conversation.objects.select_related("contact").defer(
            "custom_fields", "sla_state", "contact__consent", "contact__attributes"),
        Kind.CONTACT: Contact.objects.filter(merged_into__isnull=True).prefetch_related("identities"),
    }
    for kind, ids in by_kind.items():
        if kind in loaders:
            # By primary key alone, the workspace checked on the rows: `workspace_id = … AND id IN (…)` let
            # PostgreSQL, whose statistics lag a bulk import, AND a bitmap of the whole workspace's index with
            # the ids (90 ms for 20 messages of a 1,000,000-message workspace, issue 11).
            for obj in loaders[kind].filter(pk__in=ids):
                if obj.workspace_id == workspace_id:
                    found.objects[(kind, obj.pk)] = obj
    found.hits = [h for h in found.hits if (h.kind, h.object_id) in found.objects]
    return found


def parts_of(found: Found, text: str, *, whole: bool = False) -> list[Part]:
    return highlight(text, found.groups, prefix_last=found.prefix_last, whole=whole)


def agent_search(actor: Membership, query: str, *, per_kind: int) -> dict[str, Any]:
    """The agent workspace's search: each kind's best `per_kind` objects, messages with highlighted snippets."""
    require(actor, Permission.VIEW)
    result: dict[str, Any] = {"corrected": False}
    # Close spellings only when no section found the words as written: a word found in messages is not a typo
    # because no contact holds it (asking the dictionary for it cost up to 0.8 s a section on PostgreSQL).
    # The close spellings are looked up once for the three sections.
    ws = actor.workspace_id
    each = {kind: find(ws, query, kinds=[kind], visibilities=AGENT_VISIBILITIES, limit=per_kind, typos=False)
            for kind in AGENT_KINDS}
    wider = None if any(found.hits for found in each.values()) else widened(ws, query)
    if wider is not None:
        each = {kind: find_widened(ws, wider, kinds=[kind], visibilities=AGENT_VISIBILITIES, limit=per_kind)
                for kind in AGENT_KINDS}
    for kind in AGENT_KINDS:
        found = load(ws, each[kind])
        objects = [found.objects[(h.kind, h.object_id)] for h in found.hits]
        result[kind] = objects
        result["corrected"] = result["corrected"] or found.corrected
        if kind == Kind.MESSAGE:
            result["snippets"] = [(m, parts_of(found, m.text)) for m in objects]
        if kind == Kind.CONVERSATION:
            result["subjects"] = [(c, parts_of(found, c.subject, whole=True)) for c in objects]
    return result


def _hit_out(found: Found, kind: str, obj: Any, score: float) -> dict[str, Any]:
    if kind == Kind.MESSAGE:
        return {"kind": kind, "id": obj.pk, "score": score, "conversation_id": obj.conversation_id,
                "title": obj.conversation.subject, "internal": obj.is_note, "snippet": parts_of(found, obj.text)}
    if kind == Kind.CONVERSATION:
        return {"kind": kind, "id": obj.pk, "score": score, "conversation_id": obj.pk, "title": obj.subject,
                "internal": False, "snippet": parts_of(found, obj.subject, whole=True)}
    addresses = " · ".join(i.address for i in obj.identities.all())
    return {"kind": kind, "id": obj.pk, "score": score, "conversation_id": None, "title": obj.name,
            "internal": False, "snippet": parts_of(found, f"{obj.name} · {addresses}" if addresses else obj.name)}


def api_page(actor: Membership, query: str, *, kind: str | None, limit: int, offset: int) -> dict[str, Any]:
    """One page of GET /api/v1/search (one more hit is read to know whether a next page exists)."""
    require(actor, Permission.VIEW)
    found = find(actor.workspace_id, query, kinds=[kind] if kind else list(AGENT_KINDS),
                 visibilities=AGENT_VISIBILITIES, limit=limit + 1, offset=offset)
    more = len(found.hits) > limit
    found.hits = found.hits[:limit]
    load(actor.workspace_id, found)
    items = [_hit_out(found, h.kind, found.objects[(h.kind, h.object_id)], h.score) for h in found.hits]
    for item in items:
        item["snippet"] = [{"text": text, "match": hit} for text, hit in item["snippet"]]
    return {"items": items, "next_offset": offset + limit if more else None, "corrected": found.corrected}
