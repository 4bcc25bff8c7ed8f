"""Writes for languages: set what was detected, or what an agent says. Callers own the transaction."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from threadline.conversations.actions import record_event
from threadline.conversations.models import Conversation, ConversationEvent, Message
from threadline.core.batch_rows import fresh
from threadline.core.errors import ValidationFailed
from threadline.core.prepared import Prepared
from threadline.core.row_writes import update_columns
from threadline.events.bus import publish
from threadline.language import detection
from threadline.language.events import LanguageSet
from threadline.tenancy.models import Membership, Workspace
from threadline.tenancy.permissions import Permission, require

AGENT = "agent"
_MESSAGE_TO_DETECT = Prepared(lambda pk: Message.objects.select_for_update(of=("self",)).select_related(
    "conversation__workspace", "conversation__contact").filter(pk=pk))
_CORRECTED = Prepared(lambda conversation_id: ConversationEvent.objects.filter(
    conversation_id=conversation_id, kind="language_corrected"))


def workspace_languages(workspace: Workspace) -> list[str]:
    """The languages detection chooses among: the workspace's list, else the UI languages."""
    return list(workspace.languages or [code for code, _name in settings.LANGUAGES])


def check_language(workspace: Workspace, code: str) -> str:
    code = (code or "").strip().lower()
    if code not in workspace_languages(workspace):
        raise ValidationFailed(_("%(code)s is not one of this workspace's languages.") % {"code": code},
                               code="invalid_language", field="language")
    return code


def agent_corrected(conversation: Conversation) -> bool:
    return _CORRECTED.exists(conversation.pk)


def do_set_language(
    conversation: Conversation, message: Message | None, language: str, source: str, *,
    confidence: float | None = None, actor: Membership | None = None,
) -> Conversation:
    """Store `language` on the message and the conversation, with a timeline row, and publish `language.set`.

    A detection never overrides an agent's correction of the conversation (the message still keeps what was
    detected for it). An agent's correction (`source="agent"`) always wins and is recorded as such.
    """
    previous = conversation.language
    if message is not None and message.language != language:
        message.language = language
        update_columns(message, ["language"])
    if previous != language and (source == AGENT or not agent_corrected(conversation)):
        conversation.language = language
        update_columns(conversation, ["language"])
    kind = "language_corrected" if source == AGENT else "language_detected"
    record_event(conversation, kind, actor=actor, language=language, previous=previous, source=source,
                 confidence=confidence, message_id=message.pk if message else None)
    publish(LanguageSet(workspace_id=conversation.workspace_id, conversation_id=conversation.pk,
                        message_id=message.pk if message else None, language=conversation.language,
                        previous=previous, source=source, confidence=confidence,
                        actor_id=actor.pk if actor else None))
    return conversation


def detected_key(outbox_id: int) -> tuple[str, int]:
    """The batch-cache key of the language detected for `message.received` outbox row `outbox_id`: routing,
    run after the language subscriber in the same dispatch, takes it instead of reading the message back."""
    return ("language.detected", outbox_id)


def _locked_message(pk: int) -> tuple[Message | None, Conversation | None]:
    """The message, locked, and its conversation with its workspace and contact: handed over by the inbound job
    that wrote them in this savepoint (`core.batch_rows`), else read."""
    kept = fresh(Message, pk)
    if kept is not None:
        conversation = fresh(Conversation, kept.conversation_id, ("workspace", "contact"))
        if conversation is not None:
            return kept, conversation
    locked = _MESSAGE_TO_DETECT.one(pk)
    return (None, None) if locked is None else (locked, locked.conversation)


def ensure_detected(message: Message) -> str:
    """Detect and store the language of an inbound message once; returns it (idempotent, any caller).

    Routing, SLA and automations call this before they read the language, so the order in which the
    subscribers run does not matter. The message row is locked while detecting. A message read in the
    caller's transaction with its language set was detected already (the language is never unset).
    """
    if message.language:
        return message.language
    locked, conversation = _locked_message(message.pk)
    if locked is None or conversation is None:
        return ""
    if locked.language:
        message.language = locked.language
        return locked.language
    workspace = conversation.workspace
    languages = workspace_languages(workspace)
    found = detection.detect(locked.text, languages)
    language, source, confidence = found.language, found.method, found.confidence
    if not language and conversation.contact.language in languages:
        language, source, confidence = conversation.contact.language, "contact", None
    if not language:
        language, source, confidence = workspace.default_language, "workspace", None
    do_set_language(conversation, locked, language, source, confidence=confidence)
    message.language = language
    return language


def do_correct_language(actor: Membership, conversation: Conversation, language: str,
                        message: Message | None = None) -> Conversation:
    """An agent says which language the conversation (and optionally one message) is in."""
    require(actor, Permission.ASSIGN)
    language = check_language(conversation.workspace, language)
    if message is not None and message.conversation_id != conversation.pk:
        raise ValidationFailed(_("That message is not in this conversation."), code="invalid_message",
                               field="message_id")
    return do_set_language(conversation, message, language, AGENT, actor=actor)
