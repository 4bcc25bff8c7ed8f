"""Retention: what each workspace's policies (and its channels' overrides) say must go, and removing it.

| kind | what | age measured from |
|---|---|---|
| raw_payloads | stored inbound payloads already processed (or failed/ignored) | when received |
| closed_conversations | solved and closed conversations, with messages, attachment files, the event payloads about them (and their webhook deliveries), their search documents, and what other domains keep of them: survey requests and answers, the bot's session, portal links to them, analytics facts (by cascade), an article's feedback comment forwarded as one of their requests | their last activity |
| call_recordings | recording files of calls and voicemails (the message stays, without the file) | when stored |
| audit_entries | audit log entries (workspace policy only) | when recorded |

A channel's policy replaces the workspace's for that channel's rows (conversations by the channel they came
in on). `plan` is the dry run: the same querysets the real run deletes, counted.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.db.models.functions import Coalesce

from threadline.audit.actions import SYSTEM, record
from threadline.audit.models import AuditEntry
from threadline.channels.models import InboundEvent
from threadline.conversations.models import Attachment, Conversation, Direction, Message, Status
from threadline.core.time import now
from threadline.events.models import OutboxEvent
from threadline.privacy.models import RetentionKind, RetentionPolicy
from threadline.privacy.scope import KIND_ROWS, forwarded_feedback
from threadline.search import actions as search_actions

CHANNEL_FIELD = {
    RetentionKind.RAW_PAYLOADS: "channel_id",
    RetentionKind.CLOSED_CONVERSATIONS: "origin_channel_id",
    RetentionKind.CALL_RECORDINGS: "message__channel_id",
}


def _base(kind: str, workspace_id: int) -> QuerySet[Model]:
    if kind == RetentionKind.RAW_PAYLOADS:
        return InboundEvent.objects.filter(workspace_id=workspace_id).exclude(state=InboundEvent.State.RECEIVED)
    if kind == RetentionKind.CLOSED_CONVERSATIONS:
        return Conversation.objects.filter(workspace_id=workspace_id, status__in=[Status.SOLVED, Status.CLOSED]) \
            .annotate(last_activity=Coalesce("last_message_at", "updated_at"))
    return Attachment.objects.filter(workspace_id=workspace_id, message__metadata__has_key="call_id")


def _age_field(kind: str) -> str:
    return "last_activity" if kind == RetentionKind.CLOSED_CONVERSATIONS else "created_at"


def plan(workspace_id: int, moment: dt.datetime | None = None) -> dict[str, QuerySet[Model]]:
    """For each kind with a policy, the rows older than it allows."""
    moment = moment or now()
    policies = list(RetentionPolicy.objects.filter(workspace_id=workspace_id))
    due: dict[str, QuerySet[Model]] = {}
    for kind in RetentionKind.values:
        mine = [p for p in policies if p.kind == kind]
        if not mine:
            continue
        if kind == RetentionKind.AUDIT_ENTRIES:
            due[kind] = AuditEntry.objects.filter(workspace_id=workspace_id,
                                                  created_at__lt=moment - dt.timedelta(days=mine[0].days))
            continue
        channel_field, age = CHANNEL_FIELD[kind], _age_field(kind)
        match = Q(pk__in=[])
        overridden = [p.channel_id for p in mine if p.channel_id is not None]
        for policy in mine:
            cutoff = Q(**{f"{age}__lt": moment - dt.timedelta(days=policy.days)})
            if policy.channel_id is not None:
                match |= cutoff & Q(**{channel_field: policy.channel_id})
            else:
                match |= cutoff & ~Q(**{f"{channel_field}__in": overridden}) if overridden else cutoff
        due[kind] = _base(kind, workspace_id).filter(match)
    return due


def dry_run(workspace_id: int, moment: dt.datetime | None = None) -> dict[str, int]:
    """What a run now would delete, counted by kind."""
    return {kind: rows.count() for kind, rows in plan(workspace_id, moment).items()}


def _files_of(attachments: QuerySet[Attachment]) -> list[str]:
    return [name for name in attachments.values_list("file", flat=True) if name]


def _remove_files_after_commit(names: list[str]) -> None:
    transaction.on_commit(lambda: [default_storage.delete(name) for name in names])


def _remove_conversation_rows(workspace_id: int, ids: list[int]) -> None:
    """What other domains keep of these conversations, as an erasure removes it: the rows bound to a
    conversation (the bot's session; surveys and portal links go by cascade) and forwarded feedback comments."""
    feedback = forwarded_feedback(workspace_id, Message.objects.filter(conversation_id__in=ids,
                                                                       direction=Direction.INBOUND))
    if feedback:
        apps.get_model("knowledge", "ArticleFeedback").objects.filter(pk__in=feedback).delete()
    for app_label, model_name, how, field_name in KIND_ROWS:
        if how == "conversation" and apps.is_installed(f"threadline.{app_label}"):
            apps.get_model(app_label, model_name).objects.filter(**{f"{field_name}__in": ids}).delete()


def apply(workspace_id: int, moment: dt.datetime | None = None) -> dict[str, int]:
    """Delete what the policies say must go (the caller holds the transaction); returns the counts."""
    moment = moment or now()
    counts: dict[str, int] = {}
    for kind, rows in plan(workspace_id, moment).items():
        if kind == RetentionKind.AUDIT_ENTRIES:
            days = RetentionPolicy.objects.get(workspace_id=workspace_id, kind=kind, channel=None).days
            counts[kind] = AuditEntry.objects.expire(workspace_id=workspace_id,
                                                     before=moment - dt.timedelta(days=days))
        elif kind == RetentionKind.CLOSED_CONVERSATIONS:
            ids = list(rows.values_list("pk", flat=True))
            _remove_files_after_commit(_files_of(Attachment.objects.filter(message__conversation_id__in=ids)))
            counts[kind] = len(ids)
            message_ids = list(Message.objects.filter(conversation_id__in=ids).values_list("pk", flat=True))
            OutboxEvent.objects.filter(Q(payload__conversation_id__in=ids) | Q(payload__message_id__in=message_ids),
                                       workspace_id=workspace_id).delete()
            search_actions.do_remove("message", message_ids)
            search_actions.do_remove("conversation", ids)
            _remove_conversation_rows(workspace_id, ids)
            Conversation.objects.filter(pk__in=ids).delete()
        elif kind == RetentionKind.CALL_RECORDINGS:
            ids = list(rows.values_list("pk", flat=True))
            _remove_files_after_commit(_files_of(Attachment.objects.filter(pk__in=ids)))
            counts[kind] = len(ids)
            Attachment.objects.filter(pk__in=ids).delete()
        else:
            ids = list(rows.values_list("pk", flat=True))
            counts[kind] = len(ids)
            InboundEvent.objects.filter(pk__in=ids).delete()
    if any(counts.values()):
        record("retention.applied", workspace_id=workspace_id, target_type="workspace", target_id=workspace_id,
               details=counts, actor=SYSTEM)
    return counts
