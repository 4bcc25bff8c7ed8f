"""Reads of the agent workspace: inbox views and their counts, the customer's whole timeline across
channels and conversations, the contact sidebar, and search."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, prefetch_related_objects
from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _

from threadline.channels.models import Channel
from threadline.channels.queries import contact_context
from threadline.contacts.models import Contact, CustomField, MergeSuggestion
from threadline.contacts.queries import list_contacts, list_fields, list_merges, list_suggestions
from threadline.contacts.suggestions import describe
from threadline.conversations.models import (
    ACTIVE_STATUSES,
    Conversation,
    ConversationEvent,
    Message,
    Priority,
    Status,
    Tag,
)
from threadline.conversations.queries import ConversationFilters, list_conversations
from threadline.core.errors import ValidationFailed
from threadline.search import results as search_index
from threadline.tenancy.models import Membership, Team
from threadline.tenancy.permissions import Permission, require
from threadline.web import paging
from threadline.web.models import Mention, SavedView

LIST_LIMIT = 25  # rows per page of the inbox list (then "Load more"): a screenful; rendering is most of its cost
TIMELINE_LIMIT = 400
SEARCH_LIMIT = 20

# The built-in views: key → (label, filters). Active conversations only unless a status is chosen.
VIEWS: dict[str, tuple[Any, dict[str, Any]]] = {
    "mine": (gettext_lazy("Mine"), {"assignee": "me"}),
    "unassigned": (gettext_lazy("Unassigned"), {"assignee": "none"}),
    "teams": (gettext_lazy("My teams"), {"my_teams": True}),
    "all": (gettext_lazy("All open"), {}),
    "mentions": (gettext_lazy("Mentions"), {"mentions": True}),
}


@dataclass(frozen=True)
class ViewSpec:
    """Filters of a list as the URL (or a saved view) gives them."""

    key: str = "all"
    statuses: tuple[str, ...] = ()
    assignee: str | None = None
    team_id: int | None = None
    my_teams: bool = False
    channel_id: int | None = None
    tag: str = ""
    language: str = ""
    priority: str = ""
    mentions: bool = False
    contact_id: int | None = None
    sort: str = SavedView.Sort.NEWEST
    saved_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def query(self) -> dict[str, str]:
        """URL parameters reproducing this view."""
        if self.saved_id:
            return {"saved": str(self.saved_id)}
        params = {"view": self.key} if self.key in VIEWS else {}
        if self.statuses:
            params["status"] = ",".join(self.statuses)
        for name in ("channel_id", "team_id", "contact_id"):
            if getattr(self, name):
                params[name.removesuffix("_id")] = str(getattr(self, name))
        for name in ("tag", "language", "priority"):
            if getattr(self, name):
                params[name] = getattr(self, name)
        if self.assignee and self.key not in VIEWS:
            params["assignee"] = self.assignee
        if self.sort != SavedView.Sort.NEWEST:
            params["sort"] = self.sort
        return params


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def spec_from(params: Any, actor: Membership) -> ViewSpec:
    """A ViewSpec from URL parameters (`view`, `saved`, `status`, `assignee`, `channel`, `team`, `tag`,
    `language`, `priority`, `sort`); unknown values are ignored, never an error."""
    saved = access_saved_view(actor, _int(params.get("saved"))) if params.get("saved") else None
    if saved is not None:
        return spec_from_filters(saved.filters, key=f"saved:{saved.pk}", sort=saved.sort, saved_id=saved.pk)
    key = params.get("view") or ""
    base = dict(VIEWS[key][1]) if key in VIEWS else {}
    if not key and not any(params.get(k) for k in ("status", "assignee", "channel", "team", "tag", "language",
                                                    "priority", "contact")):
        key, base = "all", dict(VIEWS["all"][1])
    filters = {**base}
    if params.get("status"):
        filters["status"] = [s for s in str(params["status"]).split(",") if s in Status.values]
    if params.get("assignee"):
        filters["assignee"] = params["assignee"]
    for name in ("channel", "team", "contact"):
        if params.get(name):
            filters[f"{name}_id"] = _int(params[name])
    for name in ("tag", "language", "priority"):
        if params.get(name):
            filters[name] = str(params[name])[:100]
    sort = params.get("sort") if params.get("sort") in SavedView.Sort.values else SavedView.Sort.NEWEST
    return spec_from_filters(filters, key=key or "custom", sort=sort)


def spec_from_filters(filters: dict[str, Any], *, key: str, sort: str = SavedView.Sort.NEWEST,
                      saved_id: int | None = None) -> ViewSpec:
    statuses = filters.get("status") or ()
    if isinstance(statuses, str):
        statuses = statuses.split(",")
    assignee = filters.get("assignee")
    return ViewSpec(
        key=key, statuses=tuple(s for s in statuses if s in Status.values),
        assignee=str(assignee) if assignee not in (None, "") else None,
        team_id=_int(filters.get("team_id")), my_teams=bool(filters.get("my_teams")),
        channel_id=_int(filters.get("channel_id")), tag=str(filters.get("tag") or ""),
        language=str(filters.get("language") or ""),
        priority=str(filters.get("priority") or "") if filters.get("priority") in Priority.values else "",
        mentions=bool(filters.get("mentions")), contact_id=_int(filters.get("contact_id")), sort=sort,
        saved_id=saved_id,
    )


def conversations_for(actor: Membership, spec: ViewSpec) -> QuerySet[Conversation]:
    assignee: Any = spec.assignee
    if assignee not in (None, "me", "none"):
        assignee = _int(assignee)
    every_status = spec.contact_id is not None  # a customer's list shows their solved conversations too
    rows = list_conversations(actor, ConversationFilters(
        statuses=spec.statuses or (() if every_status else tuple(ACTIVE_STATUSES)), assignee=assignee,
        team_id=spec.team_id, channel_id=spec.channel_id, tag=spec.tag or None, language=spec.language or None,
        contact_id=spec.contact_id,
    )).filter(merged_into__isnull=True)
    if spec.my_teams:
        rows = rows.filter(team__members=actor)
    if spec.priority:
        rows = rows.filter(priority=spec.priority)
    if spec.mentions:
        rows = rows.filter(pk__in=Mention.objects.filter(membership=actor, read_at__isnull=True)
                           .values("conversation_id"))
    return rows


def ordered(rows: QuerySet[Conversation], sort: str) -> QuerySet[Conversation]:
    return paging.sorted_rows(rows, sort)[0]


def list_page(actor: Membership, spec: ViewSpec, after: str = "") -> tuple[list[Conversation], str]:
    """One page of the list (LIST_LIMIT rows after the cursor `after`) and the cursor of the next ("" at the
    end). Each row carries its latest message, how long the customer has waited and its next SLA deadline."""
    rows, cursor = paging.page(conversations_for(actor, spec), spec.sort, after, LIST_LIMIT)
    last = last_messages([c.pk for c in rows])
    failed = failed_conversations([c.pk for c in rows])
    for conversation in rows:
        conversation.last_message = last.get(conversation.pk)
        conversation.delivery_failed = conversation.pk in failed
        conversation.waiting_since = waiting_since(conversation)
        conversation.sla_next = next_deadline(conversation.sla_state)
    return rows, cursor


def failed_conversations(conversation_ids: list[int]) -> set[int]:
    """Those with a reply that failed and was neither retried nor sent again on another channel."""
    rows = Message.objects.filter(conversation_id__in=conversation_ids, direction="out", is_note=False,
                                  status="failed").values_list("conversation_id", "metadata")
    return {cid for cid, metadata in rows if not (metadata or {}).get("resent_as")}


def undelivered_replies(actor: Membership, limit: int = 50) -> list[Message]:
    """The workspace's replies that failed and were neither retried nor sent again on another channel (the ones
    the inbox marks "Reply failed"), newest first."""
    require(actor, Permission.VIEW)
    failed = Message.objects.filter(workspace_id=actor.workspace_id, direction="out", is_note=False, status="failed")
    return list(failed.exclude(metadata__has_key="resent_as").select_related("conversation__contact", "channel")
                .order_by("-pk")[:limit])


def waiting_since(conversation: Conversation) -> dt.datetime | None:
    """When the customer's unanswered message came in; None when the last word was the team's."""
    latest = getattr(conversation, "last_message", None)
    if conversation.status not in ACTIVE_STATUSES or latest is None:
        return None
    if latest.direction == "in" and not latest.is_note:
        return conversation.last_inbound_at or latest.created_at
    return None


def next_deadline(sla_state: dict[str, Any] | None) -> dict[str, Any] | None:
    """The earliest running SLA target from the conversation's mirrored `sla_state`: metric, due, breached."""
    found = None
    for metric, entry in ((sla_state or {}).get("metrics") or {}).items():
        if not isinstance(entry, dict) or entry.get("state") != "running" or not entry.get("due_at"):
            continue
        try:
            due = dt.datetime.fromisoformat(entry["due_at"])
        except (TypeError, ValueError):
            continue
        if found is None or due < found["due"]:
            found = {"metric": metric, "label": SLA_METRICS.get(metric, metric), "due": due,
                     "breached": bool(entry.get("breached"))}
    return found


def last_messages(conversation_ids: list[int]) -> dict[int, Message]:
    """The latest message of each conversation (notes included), in one query per page."""
    if not conversation_ids:
        return {}
    latest: dict[int, Message] = {}
    rows = (Message.objects.filter(conversation_id__in=conversation_ids).order_by("conversation_id", "-id")
            .only("id", "conversation_id", "text", "direction", "is_note", "channel_id", "created_at"))
    for message in rows.iterator():
        latest.setdefault(message.conversation_id, message)
    return latest


# ── views and counts ─────────────────────────────────────────────────────────────────────────────────
def saved_views(actor: Membership) -> QuerySet[SavedView]:
    return SavedView.objects.filter(workspace_id=actor.workspace_id).filter(Q(owner=actor) | Q(shared=True)).order_by(
        "name", "id")


def access_saved_view(actor: Membership, view_id: int | None) -> SavedView | None:
    if view_id is None:
        return None
    return saved_views(actor).filter(pk=view_id).first()


def _count(rows: QuerySet[Conversation], statuses: tuple[str, ...]) -> int:
    """How many of `rows` are in `statuses`, one status at a time: `status = ?` is a range of the
    (workspace, status, ...) and (assignee, status) indexes, so the cost is the size of the queue, not of the
    history. (`status IN (...)` over four statuses looks like most of the table to SQLite's statistics, which
    then scans every conversation ever.)"""
    return sum(rows.filter(status=status).count() for status in statuses)


def counts(actor: Membership) -> dict[str, int]:
    """Counts for the sidebar: each built-in view and each saved view the agent sees."""
    result = {}
    for key, (_label, filters) in VIEWS.items():
        spec = spec_from_filters(filters, key=key)
        result[key] = _count(_unfiltered_by_status(actor, spec), _statuses(spec))
    for view in saved_views(actor):
        spec = spec_from_filters(view.filters, key="x")
        result[f"saved:{view.pk}"] = _count(_unfiltered_by_status(actor, spec), _statuses(spec))
    return result


def _unfiltered_by_status(actor: Membership, spec: ViewSpec) -> QuerySet[Conversation]:
    """The view's conversations in every status (the caller counts them status by status)."""
    return conversations_for(actor, dataclasses.replace(spec, statuses=tuple(Status.values))).order_by()


def _statuses(spec: ViewSpec) -> tuple[str, ...]:
    if spec.statuses:
        return tuple(spec.statuses)
    return tuple(Status.values) if spec.contact_id is not None else tuple(ACTIVE_STATUSES)


RECENT_FOR_SIDEBAR = 500  # the sidebar's tags and languages come from the most recently active conversations


def sidebar(actor: Membership) -> dict[str, Any]:
    """What the view sidebar lists besides the built-in views. Tags and languages are those of the most recently
    active conversations (plus the workspace's own languages), read through the last-activity index, so the
    sidebar costs the same at a thousand conversations and at a million."""
    workspace_id = actor.workspace_id
    recent = list(Conversation.objects.filter(workspace_id=workspace_id).order_by("-last_message_at")
                  .values_list("id", "language")[:RECENT_FOR_SIDEBAR])
    recent_ids = [pk for pk, _language in recent]
    tag_counts = (Conversation.tags.through.objects.filter(conversation_id__in=recent_ids)
                  .values("tag_id").annotate(n=Count("conversation_id")))
    by_tag = {row["tag_id"]: row["n"] for row in tag_counts}
    tags = list(Tag.objects.filter(workspace_id=workspace_id, pk__in=list(by_tag)))
    for tag in tags:
        tag.n = by_tag[tag.pk]
    languages = {language for _pk, language in recent if language} | set(actor.workspace.languages or [])
    return {
        "channels": list(Channel.objects.filter(workspace_id=workspace_id, is_active=True).order_by("name")),
        "tags": sorted(tags, key=lambda t: (-t.n, t.name))[:12],
        "languages": sorted(languages)[:20],
        "teams": teams_of(workspace_id),
        "saved": list(saved_views(actor)),
        "statuses": Status.choices,
    }


# ── the customer's timeline ──────────────────────────────────────────────────────────────────────────
@dataclass
class TimelineItem:
    kind: str  # "message" or "event"
    at: dt.datetime
    conversation_id: int
    message: Message | None = None
    event: ConversationEvent | None = None
    text: str = ""


def contact_conversations(conversation: Conversation) -> QuerySet[Conversation]:
    """The customer's conversations; a group chat's conversation (`thread_key`) stands alone, since its
    members are not its contact, and is never listed among a member's own."""
    rows = Conversation.objects.filter(workspace_id=conversation.workspace_id)
    if conversation.thread_key:
        return rows.filter(pk=conversation.pk)
    return rows.filter(contact_id=conversation.contact_id, thread_key="").order_by("-created_at", "-id")


def _before(cursor: tuple[dt.datetime, int, int] | None, rank: int) -> Q:
    """Rows of one kind (events rank 0, messages 1) strictly earlier than `cursor` in the timeline order."""
    if cursor is None:
        return Q()
    at, cursor_rank, pk = cursor
    earlier = Q(created_at__lt=at)
    if rank < cursor_rank:
        return earlier | Q(created_at=at)
    if rank == cursor_rank:
        return earlier | Q(created_at=at, pk__lt=pk)
    return earlier


def timeline_cursor(item: TimelineItem) -> str:
    rank, pk = (1, item.message.pk) if item.message is not None else (0, item.event.pk)  # type: ignore[union-attr]
    return base64.urlsafe_b64encode(f"{item.at.isoformat()}~{rank}~{pk}".encode()).decode().rstrip("=")


def parse_timeline_cursor(value: str) -> tuple[dt.datetime, int, int] | None:
    if not value:
        return None
    try:
        at, rank, pk = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().split("~")
        moment = dt.datetime.fromisoformat(at)
        if moment.tzinfo is None or rank not in ("0", "1"):
            raise ValueError(value)
        return moment, int(rank), int(pk)
    except (ValueError, binascii.Error) as exc:
        raise ValidationFailed(_("That link to earlier messages is not valid."), code="invalid_cursor",
                               field="before") from exc


def timeline(actor: Membership, conversation: Conversation, before: str = "", *, names: dict[int, str] | None = None,
             channels: list[Channel] | None = None) -> tuple[list[TimelineItem], str]:
    """Everything of this customer in time order: every message on every channel and every timeline event,
    of this conversation and of their other conversations (the caller marks which is which).

    The latest TIMELINE_LIMIT items earlier than the cursor `before` (the newest when empty), and the cursor
    for the items before them ("" when there are none). `names` (of the workspace's agents) and `channels` (all
    the workspace's) are read here unless the caller has them already."""
    cursor = parse_timeline_cursor(before)
    # The ids are the workspace's already, so the rows are asked by conversation alone: with workspace_id beside
    # them, SQLite without statistics (no ANALYZE yet) read every message of the workspace (2.6 s at 3,000,000).
    ids = list(contact_conversations(conversation).values_list("pk", flat=True))
    messages = list(
        Message.objects.filter(conversation_id__in=ids).filter(_before(cursor, 1))
        .select_related("channel", "author_membership__user", "identity", "delivery")
        .prefetch_related("attachments")
        .order_by("-created_at", "-id")[:TIMELINE_LIMIT + 1]
    )
    _attach_authors(conversation, messages)
    events = list(ConversationEvent.objects.filter(conversation_id__in=ids)
                  .filter(_before(cursor, 0)).select_related("actor__user")
                  .order_by("-created_at", "-id")[:TIMELINE_LIMIT + 1])
    if events:  # only events are described with names and channels
        names = agent_names(actor.workspace_id) if names is None else names
        by_id = {c.pk: c for c in (channels_of(actor.workspace_id) if channels is None else channels)}
    items = [TimelineItem("message", m.created_at, m.conversation_id, message=m) for m in messages]
    items += [TimelineItem("event", e.created_at, e.conversation_id, event=e, text=describe_event(e, names, by_id))
              for e in events]
    items.sort(key=lambda i: (i.at, 0 if i.kind == "event" else 1, i.message.pk if i.message else i.event.pk))
    shown = items[-TIMELINE_LIMIT:]
    return shown, timeline_cursor(shown[0]) if len(items) > len(shown) else ""


def _attach_authors(conversation: Conversation, messages: list[Message]) -> None:
    """Each customer message's author with their identities (the timeline labels them by them). The
    conversation's own contact, whose identities its summary loaded (conversations_of), is handed over; others
    (a group chat's members, a merged contact) are read in two statements."""
    contact = conversation.contact
    others = []
    for message in messages:
        if message.author_contact_id is not None and message.author_contact_id == contact.pk:
            message.author_contact = contact
        elif message.author_contact_id is not None:
            others.append(message)
    prefetch_related_objects(others, "author_contact__identities")


def agent_names(workspace_id: int) -> dict[int, str]:
    return names_of(Membership.objects.filter(workspace_id=workspace_id).select_related("user"))


def names_of(members: Iterable[Membership]) -> dict[int, str]:
    """Agents' names by membership id, as the timeline's events name them (`members` with their users)."""
    return {m.pk: (m.user.name or m.user.email) for m in members}


def channels_of(workspace_id: int) -> list[Channel]:
    """Every channel of the workspace, active or not (the timeline names retired ones too)."""
    return list(Channel.objects.filter(workspace_id=workspace_id))


def teams_of(workspace_id: int) -> list[Team]:
    return list(Team.objects.filter(workspace_id=workspace_id).order_by("name"))


def fields_by_target(workspace_id: int) -> dict[str, list[CustomField]]:
    """The workspace's custom field definitions by what they apply to ("contact", "conversation"), in their
    order: one query for both boxes of the conversation screen."""
    fields: dict[str, list[CustomField]] = {choice: [] for choice in CustomField.AppliesTo.values}
    for definition in list_fields(workspace_id):
        fields.setdefault(definition.applies_to, []).append(definition)
    return fields


STATUS_LABELS = dict(Status.choices)
PRIORITY_LABELS = dict(Priority.choices)


def describe_event(event: ConversationEvent, names: dict[int, str], channels: dict[int, Channel]) -> str:
    """One timeline event as a sentence in the active language."""
    data = event.data or {}
    actor = names.get(event.actor_id or 0) or _("Threadline")

    def agent(value: Any) -> str:
        return names.get(value, "") if isinstance(value, int) else ""

    def status(value: Any) -> str:
        return str(STATUS_LABELS.get(value, value))

    kind = event.kind
    if kind == "created":
        channel = channels.get(data.get("channel_id") or 0)
        if data.get("unmerged_from"):
            return _("%(actor)s undid a contact merge: these messages came from this contact and moved here "
                     "from #%(id)s") % {"actor": actor, "id": data["unmerged_from"]}
        if data.get("split_from"):
            return _("%(actor)s split this conversation out of #%(id)s") % {"actor": actor, "id": data["split_from"]}
        return _("Conversation started on %(channel)s") % {"channel": channel.name if channel else _("no channel")}
    if kind == "assigned":
        if data.get("new"):
            return _("%(actor)s assigned it to %(agent)s") % {"actor": actor, "agent": agent(data["new"])}
        return _("%(actor)s unassigned it") % {"actor": actor}
    if kind == "team_changed":
        return _("%(actor)s changed the team") % {"actor": actor}
    if kind == "status_changed":
        return _("%(actor)s changed the status from %(old)s to %(new)s") % {
            "actor": actor, "old": status(data.get("old")), "new": status(data.get("new"))}
    if kind == "priority_changed":
        return _("%(actor)s set the priority to %(p)s") % {
            "actor": actor, "p": PRIORITY_LABELS.get(data.get("new"), data.get("new"))}
    if kind == "tags_changed":
        return _("%(actor)s set the tags: %(tags)s") % {"actor": actor, "tags": ", ".join(data.get("new") or []) or "—"}
    if kind == "reopened":
        return _("Reopened: %(reason)s") % {"reason": data.get("reason", "")}
    if kind == "merged":
        return _("%(actor)s merged this conversation into #%(id)s") % {"actor": actor, "id": data.get("into")}
    if kind == "merged_in":
        return _("%(actor)s merged #%(id)s into this conversation") % {"actor": actor, "id": data.get("source")}
    if kind == "contact_merged":
        return _("%(actor)s merged two contacts") % {"actor": actor}
    if kind == "contact_unmerged":
        return _("%(actor)s undid a contact merge") % {"actor": actor}
    if kind == "unmerge_split_out":
        return _("%(actor)s undid a contact merge: %(count)s messages of the other contact moved to #%(id)s") % {
            "actor": actor, "count": len(data.get("message_ids") or []), "id": data.get("into")}
    if kind == "unmerge_review":
        return _("Please check: after the contact merge was undone, %(count)s messages written while the two "
                 "were one could not be attributed to either, and stayed here") % {
            "count": len(data.get("message_ids") or [])}
    if kind == "snoozed":
        return _("%(actor)s snoozed it until %(until)s") % {"actor": actor, "until": data.get("until", "")}
    if kind == "unsnoozed":
        return _("The snooze ended")
    if kind in ("split", "message_split_out"):
        return _("%(actor)s split a message out into #%(id)s") % {"actor": actor, "id": data.get("into")}
    if kind == "message_moved_out":
        return _("%(actor)s moved a message to #%(id)s") % {"actor": actor, "id": data.get("into")}
    if kind == "message_moved_in":
        return _("%(actor)s moved a message here from #%(id)s") % {"actor": actor, "id": data.get("source")}
    if kind.startswith(("call_", "callback_")):
        return describe_call(kind, data)
    if kind.startswith("sla_"):
        return describe_sla(kind, data)
    if kind.startswith("bot_"):
        return describe_bot(kind, data)
    if kind in ("survey_sent", "survey_answered", "survey_not_sent", "survey_held"):
        return describe_survey(kind, data)
    if kind.startswith("social_"):
        return describe_social(kind, data, actor)
    if kind == "reply_retried":
        return _("%(actor)s tried a failed reply again") % {"actor": actor}
    if kind == "reply_resent":
        channel = channels.get(data.get("channel_id") or 0)
        return _("%(actor)s sent a failed reply again on %(channel)s") % {
            "actor": actor, "channel": channel.name if channel else _("another channel")}
    if kind == "reply_scheduled":
        return _("%(actor)s scheduled a reply") % {"actor": actor}
    if kind == "scheduled_reply_cancelled":
        return _("%(actor)s cancelled a scheduled reply") % {"actor": actor}
    if kind == "scheduled_reply_failed":
        return _("A scheduled reply could not be sent: %(reason)s") % {"reason": data.get("reason", "")}
    if kind == "macro_applied":
        return _("%(actor)s applied the macro %(name)s") % {"actor": actor, "name": data.get("name", "")}
    if kind == "automation_ran":
        return _("The automation %(name)s ran") % {"name": data.get("name", "")}
    if kind == "language_detected":
        return _("Language detected: %(language)s") % {"language": language_name(data.get("language"))}
    if kind == "language_corrected":
        return _("%(actor)s set the language to %(language)s") % {
            "actor": actor, "language": language_name(data.get("language"))}
    if kind == "routing_escalated":
        return _("Escalated to another team")
    if kind == "reassigning":
        return _("Handed to someone else: %(reason)s") % {"reason": data.get("reason", "")}
    if kind == "participant_added":
        return _("%(actor)s copied %(address)s on the conversation") % {"actor": actor, "address": data.get("address")}
    if kind == "participant_removed":
        return _("%(actor)s stopped copying %(address)s") % {"actor": actor, "address": data.get("address")}
    if kind == "custom_fields_changed":
        shown = ", ".join(f"{key}: {'—' if value is None else value}" for key, value in (data.get("new") or {}).items())
        return _("%(actor)s changed fields: %(fields)s") % {"actor": actor, "fields": shown}
    return kind.replace("_", " ").capitalize()


def language_name(code: Any) -> str:
    try:
        return str(get_language_info(str(code))["name_translated"])
    except KeyError:
        return str(code or "?")


SLA_METRICS = {"first_response": gettext_lazy("First response"), "next_response": gettext_lazy("Next response"),
               "resolution": gettext_lazy("Resolution")}


def describe_sla(kind: str, data: dict[str, Any]) -> str:
    metric = str(SLA_METRICS.get(data.get("metric"), data.get("metric", "")))
    texts = {
        "sla_started": _("SLA clock started: %(metric)s"),
        "sla_warning": _("SLA nearly due: %(metric)s"),
        "sla_breached": _("SLA breached: %(metric)s"),
        "sla_fulfilled": _("SLA met late: %(metric)s") if data.get("late") else _("SLA met: %(metric)s"),
        "sla_escalated": _("SLA escalation: %(metric)s"),
        "sla_paused": _("SLA clocks paused"),
        "sla_resumed": _("SLA clocks resumed"),
    }
    text = texts.get(kind)
    return text % {"metric": metric} if text and "%(metric)s" in text else (text or kind.replace("_", " "))


BOT_REASONS = {
    "asked": gettext_lazy("the customer asked for a person"), "not_helped": gettext_lazy("the answer did not help"),
    "low_confidence": gettext_lazy("no article was close enough"), "max_turns": gettext_lazy("after its most answers"),
    "email": gettext_lazy("it answered the email once"), "external": gettext_lazy("the bot platform asked for it"),
    "external_failed": gettext_lazy("the bot platform did not answer"),
    "assigned": gettext_lazy("an agent took the conversation"), "disabled": gettext_lazy("the bot was turned off"),
}


SURVEY_REASONS = {
    "opted_out": gettext_lazy("the customer opted out"),
    "no_approved_template": gettext_lazy("the reply window is closed and the survey has no approved template"),
    "outside_reply_window": gettext_lazy("the reply window is closed"),
    "no_consent": gettext_lazy("no consent"),
}


def describe_social(kind: str, data: dict[str, Any], actor: str) -> str:
    """Timeline rows of the social domain: a public item joined the conversation, a private or public reply."""
    if kind == "social_linked":
        return _("A public %(source)s item joined this conversation") % {"source": data.get("source", "")}
    if kind == "social_private_reply":
        return _("%(actor)s answered a public comment privately") % {"actor": actor}
    if kind == "social_public_reply":
        return _("%(actor)s answered in public: %(text)s") % {"actor": actor, "text": data.get("text", "")[:200]}
    return kind.replace("_", " ").capitalize()


def describe_survey(kind: str, data: dict[str, Any]) -> str:
    survey = str(data.get("survey_kind", "")).upper()  # CSAT, CES, NPS: the same in every language
    if kind == "survey_sent":
        return _("The %(survey)s survey was sent") % {"survey": survey}
    if kind == "survey_held":
        return _("The %(survey)s survey waits for the quiet hours to end") % {"survey": survey}
    if kind == "survey_not_sent":
        reason = SURVEY_REASONS.get(data.get("reason", ""), data.get("reason", ""))
        return _("The %(survey)s survey was not sent: %(reason)s") % {"survey": survey, "reason": reason}
    return _("The customer answered the %(survey)s survey: %(score)s") % {"survey": survey, "score": data.get("score")}


def describe_bot(kind: str, data: dict[str, Any]) -> str:
    if kind == "bot_started":
        return _("The answer bot took the conversation")
    if kind == "bot_handed_over":
        return _("The answer bot handed over to people: %(reason)s") % {
            "reason": BOT_REASONS.get(data.get("reason", ""), data.get("reason", ""))}
    if kind == "bot_resolved":
        return _("Resolved by the answer bot")
    if kind == "bot_abandoned":
        return _("The customer left the answer bot without an answer")
    return kind.replace("_", " ").capitalize()


def describe_call(kind: str, data: dict[str, Any]) -> str:
    number = data.get("from") or data.get("callback_number") or ""
    duration = data.get("duration_seconds")
    texts = {
        "call_started": _("Call from %(number)s") % {"number": number},
        "call_answered": _("Call answered"),
        "call_completed": (_("Call ended after %(s)s seconds") % {"s": duration}) if duration else _("Call ended"),
        "call_missed": _("Missed call from %(number)s") % {"number": number},
        "call_voicemail": _("Voicemail from %(number)s") % {"number": number},
        "call_transcription": _("Call transcribed"),
        "call_callback_requested": _("Callback requested to %(number)s") % {"number": number},
        "call_queued": _("Call queued for a team"),
        "call_survey": _("Survey keyed in on the phone after the call"),
        "callback_task": _("Call back %(number)s") % {"number": number or data.get("number", "")},
        "callback_done": _("Callback done: %(outcome)s") % {"outcome": data.get("outcome", "")},
    }
    return texts.get(kind, kind.replace("_", " ").capitalize())


# ── contact sidebar ──────────────────────────────────────────────────────────────────────────────────
def contact_panel(actor: Membership, conversation: Conversation, merge_query: str = "", *,
                  contact_fields: list[CustomField] | None = None) -> dict[str, Any]:
    """The customer panel. `contact_fields`: the workspace's contact field definitions when the caller has them
    (they are shown in a box of their own, so left out of the attributes)."""
    contact: Contact = conversation.contact
    suggestions = []
    for suggestion in list_suggestions(actor, contact)[:5]:
        other = suggestion.candidate if suggestion.contact_id == contact.pk else suggestion.contact
        suggestions.append({"suggestion": suggestion, "other": other, "identities": list(other.identities.all())[:6],
                            "last": last_conversation(other), "reasons": [describe(r) for r in suggestion.reasons]})
    merges = [m for m in list_merges(actor, contact)[:5] if m.unmerged_at is None and m.target_id == contact.pk]
    fielded = ({f.key for f in contact_fields} if contact_fields is not None  # shown in their box
               else set(list_fields(actor.workspace_id, "contact").values_list("key", flat=True)))
    return {
        "contact": contact,
        # the conversation's summary prefetched them (conversations_of)
        "identities": sorted(contact.identities.all(), key=lambda identity: (identity.kind, identity.pk)),
        "attributes": sorted((k, v) for k, v in (contact.attributes or {}).items() if k not in fielded)[:30],
        "organization": contact.organization,
        "others": list(contact_conversations(conversation).exclude(pk=conversation.pk)[:10]),
        "suggestions": suggestions,
        "merges": merges,
        "suggestion_open": MergeSuggestion.State.OPEN,
        "visit": contact_context(contact),
        "merge_query": merge_query,
        "merge_results": merge_candidates(actor, contact, merge_query) if merge_query else None,
    }


def last_conversation(contact: Contact) -> Conversation | None:
    return (Conversation.objects.filter(workspace_id=contact.workspace_id, contact=contact, merged_into__isnull=True)
            .order_by("-last_message_at", "-id").first())


MERGE_RESULTS = 8


def merge_candidates(actor: Membership, contact: Contact, query: str) -> list[dict[str, Any]]:
    """Contacts matching `query` (name or any identity) that could be merged into `contact`, each with its
    identities and latest conversation so the agent can tell them apart."""
    query = (query or "").strip()[:200]
    if not query:
        return []
    rows = list_contacts(actor, q=query).exclude(pk=contact.pk).order_by("-id")[:MERGE_RESULTS]
    return [{"contact": row, "identities": list(row.identities.all())[:6], "last": last_conversation(row)}
            for row in rows]


# ── search ───────────────────────────────────────────────────────────────────────────────────────────
def search(actor: Membership, query: str) -> dict[str, Any]:
    """Conversations (subject or number), messages (text) and contacts (name or any identity) matching, ranked
    by the search index (`threadline.search`), messages with highlighted snippets."""
    require(actor, Permission.VIEW)
    query = (query or "").strip()[:200]
    if not query:
        return {"query": "", "conversations": [], "messages": [], "contacts": [], "snippets": [], "subjects": []}
    found = search_index.agent_search(actor, query, per_kind=SEARCH_LIMIT)
    subjects = found["subjects"]
    number = query.lstrip("#")
    if number.isdigit() and len(number) < 18:
        numbered = Conversation.objects.filter(workspace_id=actor.workspace_id, pk=int(number)).select_related(
            "contact").first()
        if numbered is not None and numbered not in found["conversation"]:
            subjects.insert(0, (numbered, [(numbered.subject, False)]))
    contacts = found["contact"]
    if not contacts and ("@" in query or any(ch.isdigit() for ch in query)):  # an address in another form
        contacts = list(list_contacts(actor, q=query).order_by("-id")[:SEARCH_LIMIT])
    return {"query": query, "conversations": [c for c, _ in subjects], "subjects": subjects,
            "messages": found["message"], "snippets": found["snippets"], "contacts": contacts,
            "corrected": found["corrected"]}
