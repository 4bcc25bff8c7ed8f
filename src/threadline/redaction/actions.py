"""An agent's redaction of a message after the fact (masking at ingest is `ingest.py`).

`do_redact_message`: an admin or agent removes a substring of a message, or an attachment, from every copy:
the message's text, sanitized html and metadata, the conversation's subject, the raw inbound payloads (JSON,
forms and email originals alike), the outbox events (whose payloads are what outbound webhooks deliver and what
the real-time catch-up replays), the jobs' arguments and errors, the conversation's timeline entries, what the
self-service domains keep of the conversation (the bot's turns that echoed it and an external bot platform's
session, survey comments, an article's feedback comment the help center forwarded as this message, a community
post an agent moved to this private conversation, with its topic's title), the search
index (the messages and the subject indexed again, the text's words dropped from the typo dictionary), the
attachment's file on disk (replaced by a placeholder), and the customer's data-export archives made before
(expired). Analytics facts hold no text (counts, durations, tags), so nothing there changes. An audit entry
`message.redacted` records who did it, never what.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from threadline.audit.actions import record
from threadline.bot.models import BotSession
from threadline.channels.models import InboundEvent
from threadline.community import search as community_search
from threadline.community.models import Post
from threadline.conversations.models import Attachment, AuthorKind, ConversationEvent, Message
from threadline.core import crypto
from threadline.core.errors import ValidationFailed
from threadline.events.models import OutboxEvent
from threadline.jobs.models import Job
from threadline.knowledge.models import ArticleFeedback
from threadline.privacy.actions import do_expire_export
from threadline.privacy.models import ContactExport
from threadline.privacy.scope import forwarded_feedback
from threadline.redaction.ingest import rewrite_event
from threadline.redaction.payloads import ATTACHMENT_PLACEHOLDER, rewrite_json
from threadline.search.actions import do_reindex_redacted
from threadline.surveys.models import SurveyResponse
from threadline.tenancy.models import Membership, Workspace
from threadline.tenancy.permissions import Permission, require

REDACTED = "[redacted]"
MIN_SUBSTRING = 4  # shorter text would match unrelated bytes in raw payloads
MAX_SUBSTRING = 10_000


def check_can_redact(actor: Membership) -> None:
    """Admins and agents redact; light agents (who may only add notes) do not."""
    require(actor, Permission.REDACT)


def check_countries(countries: Any) -> list[str]:
    if not isinstance(countries, list) or not all(
            isinstance(c, str) and len(c) == 2 and c.isascii() and c.isalpha() for c in countries):
        raise ValidationFailed(_("Countries are two-letter ISO codes."), code="invalid_countries", field="countries")
    return sorted({c.upper() for c in countries})


def do_update_settings(actor: Membership, *, redact_pii: bool | None = None,
                       countries: list[str] | None = None) -> Workspace:
    """Turn masking at ingest on or off and set the workspace's countries (audited)."""
    require(actor, Permission.ADMIN_SECURITY)
    workspace = Workspace.objects.select_for_update().get(pk=actor.workspace_id)
    before = {"redact_pii": workspace.redact_pii, "countries": workspace.countries}
    if redact_pii is not None:
        workspace.redact_pii = redact_pii
    if countries is not None:
        workspace.countries = check_countries(countries)
    after = {"redact_pii": workspace.redact_pii, "countries": workspace.countries}
    if after != before:
        workspace.save(update_fields=["redact_pii", "countries", "updated_at"])
        record("workspace.settings_changed", workspace_id=workspace.pk, target_type="workspace", target_id=workspace.pk,
               details={"area": "redaction", "before": before, "after": after}, actor=actor)
    return workspace


def check_substring(message: Message, text: Any) -> str:
    if not isinstance(text, str) or len(text.strip()) < MIN_SUBSTRING or len(text) > MAX_SUBSTRING:
        raise ValidationFailed(_("Give the text to redact: at least %(n)d characters of the message.")
                               % {"n": MIN_SUBSTRING}, code="invalid_text", field="text")
    if text not in message.text and html_lib.escape(text) not in message.html and text not in message.html:
        raise ValidationFailed(_("The message does not contain that text."), code="text_not_found", field="text")
    return text


def check_attachment(message: Message, attachment_id: Any) -> Attachment:
    attachment = message.attachments.filter(pk=attachment_id).first() if isinstance(attachment_id, int) else None
    if attachment is None:
        raise ValidationFailed(_("The message has no such attachment."), code="attachment_not_found",
                               field="attachment_id")
    return attachment


def check_redaction(actor: Membership, message: Message, text: Any, attachment_id: Any,
                    ) -> tuple[str | None, Attachment | None]:
    """What to redact: exactly one of a substring of the message and one of its attachments."""
    check_can_redact(actor)
    if (text is None) == (attachment_id is None):
        raise ValidationFailed(_("Give either the text or the attachment to redact."), code="invalid_redaction")
    if text is not None:
        return check_substring(message, text), None
    return None, check_attachment(message, attachment_id)


def _replacer(secret: str) -> Callable[[str], str]:
    variants = sorted({secret, html_lib.escape(secret), html_lib.escape(secret, quote=False),
                       json.dumps(secret)[1:-1]}, key=len, reverse=True)

    def replace(value: str) -> str:
        for variant in variants:
            if variant in value:
                value = value.replace(variant, REDACTED)
        return value

    return replace


def _copies(message: Message) -> tuple[list[InboundEvent], list[OutboxEvent]]:
    """The raw payloads and outbox events that can hold a copy of the message."""
    events: list[InboundEvent] = []
    if message.channel_id is not None:
        linked = Q(idempotency_key=message.provider_message_id[:255]) if message.provider_message_id else Q(pk=None)
        if message.author_contact_id is not None:
            linked |= Q(contacts=message.author_contact_id)
        events = list(InboundEvent.objects.filter(linked, workspace_id=message.workspace_id,
                                                  channel_id=message.channel_id).distinct())
    outbox = list(OutboxEvent.objects.filter(
        Q(payload__message_id=message.pk) | Q(payload__conversation_id=message.conversation_id),
        workspace_id=message.workspace_id))
    return events, outbox


def _rewrite_jobs(fn: Callable[[str], str], needle: str) -> int:
    """Jobs whose arguments or last error hold the text (jobs carry ids, so this is rare), done ones too."""
    found = [pk for pk, args, kwargs, error in Job.objects.values_list("pk", "args", "kwargs", "last_error")
             .iterator(chunk_size=500)
             if needle in f"{json.dumps([args, kwargs], ensure_ascii=False)} {error}"]
    for job in Job.objects.filter(pk__in=found):
        job.args, job.kwargs = rewrite_json(job.args, fn), rewrite_json(job.kwargs, fn)
        job.last_error = fn(job.last_error)
        job.save(update_fields=["args", "kwargs", "last_error"])
    return len(found)


def _replace_file(attachment: Attachment) -> None:
    old = attachment.file.name
    placeholder = ATTACHMENT_PLACEHOLDER.encode()
    attachment.file.save(f"redacted-{attachment.pk}.txt", ContentFile(placeholder), save=False)
    attachment.filename, attachment.content_type = "redacted.txt", "text/plain"
    attachment.size, attachment.sha256 = len(placeholder), hashlib.sha256(placeholder).hexdigest()
    attachment.save(update_fields=["file", "filename", "content_type", "size", "sha256", "updated_at"])
    if old:
        transaction.on_commit(lambda: default_storage.delete(old))


def _rewrite_conversation_copies(message: Message, fn: Callable[[str], str], feedback: list[int]) -> tuple[int, list[int]]:
    """Copies kept beside the message: the timeline's entries, the bot's turns (its echo of the customer) and an
    external platform's session, survey comments, forwarded feedback comments. Returns (how many changed, the
    bot messages changed: the search indexes them again)."""
    changed, bot_messages = 0, []
    rows = [*ConversationEvent.objects.filter(conversation_id=message.conversation_id)]
    for row in rows:
        data = rewrite_json(row.data, fn)
        if data != row.data:
            row.data = data
            row.save(update_fields=["data", "updated_at"])
            changed += 1
    for turn in Message.objects.filter(conversation_id=message.conversation_id, author_kind=AuthorKind.BOT) \
            .exclude(pk=message.pk):
        text, metadata = fn(turn.text), rewrite_json(turn.metadata, fn)
        if (text, metadata) != (turn.text, turn.metadata):
            turn.text, turn.html, turn.metadata = text, fn(turn.html), metadata
            turn.save(update_fields=["text", "html", "metadata", "updated_at"])
            bot_messages.append(turn.pk)
    for session in BotSession.objects.filter(conversation_id=message.conversation_id).exclude(
            external_state_encrypted=""):
        state = rewrite_json(session.external_state, fn)
        if state != session.external_state:
            session.external_state_encrypted = crypto.encrypt_json(state)
            session.save(update_fields=["external_state_encrypted", "updated_at"])
            changed += 1
    for row in [*SurveyResponse.objects.filter(conversation_id=message.conversation_id),
                *ArticleFeedback.objects.filter(pk__in=feedback)]:
        if fn(row.comment) != row.comment:
            row.comment = fn(row.comment)
            row.save(update_fields=["comment", "updated_at"])
            changed += 1
    return changed + len(bot_messages), bot_messages


def _rewrite_moved_posts(events: list[InboundEvent], fn: Callable[[str], str]) -> int:
    """A community post an agent moved to a private conversation stays, hidden, with the words the message
    holds (and its topic's title is the conversation's subject)."""
    changed, topics = 0, set()
    for post in Post.objects.filter(private_request_id__in=[e.pk for e in events]).select_related("topic"):
        if (fn(post.body), fn(post.body_html)) != (post.body, post.body_html):
            post.body, post.body_html = fn(post.body), fn(post.body_html)
            post.save(update_fields=["body", "body_html", "updated_at"])
            changed += 1
            topics.add(post.topic_id)
        if fn(post.topic.title) != post.topic.title:
            post.topic.title = fn(post.topic.title)
            post.topic.save(update_fields=["title", "updated_at"])
            changed += 1
            topics.add(post.topic_id)
    if topics:
        community_search.index_topics(topics)
    return changed


def _expire_exports(message: Message) -> int:
    """Data-subject archives made before the redaction hold the old copy: they expire (file deleted)."""
    contacts = {message.conversation.contact_id, message.author_contact_id} - {None}
    exports = list(ContactExport.objects.filter(workspace_id=message.workspace_id, contact_id__in=contacts)
                   .exclude(state=ContactExport.State.EXPIRED))
    for export in exports:
        do_expire_export(export)
    return len(exports)


def _zero_freed_bytes() -> None:
    """SQLite: the rewritten rows' old cells are zeroed, not left in free pages, during this transaction."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete = ON")

    def off() -> None:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = OFF")

    transaction.on_commit(off)


def do_redact_message(actor: Membership, message: Message, *, text: str | None = None,
                      attachment: Attachment | None = None) -> dict[str, int]:
    """Remove `text` (a substring of the message) or `attachment` from every copy; the caller holds the
    transaction and has checked the input. Returns how many copies of each kind changed."""
    check_can_redact(actor)
    _zero_freed_bytes()
    fn: Callable[[str], str] = _replacer(text) if text else (lambda value: value)
    drop = frozenset({attachment.sha256}) if attachment is not None else frozenset()
    counts = {"messages": 0, "inbound_events": 0, "outbox_events": 0, "jobs": 0, "attachments": 0, "exports": 0,
              "other_copies": 0}
    feedback = forwarded_feedback(message.workspace_id, Message.objects.filter(pk=message.pk)) if text else []
    new_text, new_html = fn(message.text), fn(message.html)
    new_metadata = rewrite_json(message.metadata, fn)
    if (new_text, new_html, new_metadata) != (message.text, message.html, message.metadata):
        message.text, message.html, message.metadata = new_text, new_html, new_metadata
        message.save(update_fields=["text", "html", "metadata", "updated_at"])
        counts["messages"] = 1
    conversation = message.conversation
    if fn(conversation.subject) != conversation.subject:
        conversation.subject = fn(conversation.subject)
        conversation.save(update_fields=["subject", "updated_at"])
    events, outbox = _copies(message)
    counts["inbound_events"] = sum(rewrite_event(event, fn, drop) for event in events)
    for row in outbox:
        payload = rewrite_json(row.payload, fn)
        if payload != row.payload:
            row.payload = payload
            row.save(update_fields=["payload"])
            counts["outbox_events"] += 1
    bot_messages: list[int] = []
    if text:
        counts["jobs"] = _rewrite_jobs(fn, text)
        counts["other_copies"], bot_messages = _rewrite_conversation_copies(message, fn, feedback)
        counts["other_copies"] += _rewrite_moved_posts(events, fn)
    if attachment is not None:
        _replace_file(attachment)
        counts["attachments"] = 1
    counts["exports"] = _expire_exports(message)
    if text:
        for pk in [message.pk, *bot_messages]:
            do_reindex_redacted(message.workspace_id, pk, conversation.pk, text)
    record("message.redacted", workspace_id=message.workspace_id, target_type="message", target_id=message.pk,
           details={"what": "text" if text else "attachment", "copies": counts}, actor=actor)
    return counts
