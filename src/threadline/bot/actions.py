"""Writes for the answer bot: its settings, and its turns in a conversation. Callers own the transaction.

A conversation is in bot mode from its first customer message on a channel whose bot is on until the bot hands
it over (asked for a person, "No" then a person, an answer below the threshold, too many turns, an email
auto-reply, the external bot's hand-off signal), or its outcome is known (resolved, abandoned). Routing leaves
it alone meanwhile (`queries.holds`); the hand-off routes it like any conversation.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.utils import formats, translation
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.bot import retrieval, wording
from threadline.bot.events import BotAbandoned, BotHandedOver, BotResolved
from threadline.bot.models import BotSession, BotSettings, Mode, SessionState
from threadline.bot.queries import settings_for, would_engage
from threadline.channels.choices import fitted
from threadline.channels.models import Channel
from threadline.channels.registry import adapter_for
from threadline.conversations.actions import do_update_conversation, record_event
from threadline.conversations.models import AuthorKind, Conversation, Message, Status
from threadline.core import crypto
from threadline.core.errors import ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.replies.actions import do_send_bot_message
from threadline.sla.businesshours import is_open, next_open
from threadline.sla.models import BusinessSchedule
from threadline.tenancy.models import Workspace

logger = logging.getLogger(__name__)
EMAIL = "email"
EXTERNAL_KINDS = ("dialogflow_cx", "lex_v2", "bot_framework")  # botplatforms.registry.KINDS


# ── settings ─────────────────────────────────────────────────────────────────────────────────────────
def external_available() -> bool:
    """External platforms are selectable only when the bot platforms domain is installed."""
    try:
        import threadline.botplatforms.registry  # noqa: F401
    except ImportError:
        return False
    return True


def check_settings(workspace: Workspace, *, mode: str, external_kind: str, threshold: float, max_turns: int,
                   languages: list[str], schedule_id: int | None) -> BusinessSchedule | None:
    if mode not in Mode.values:
        raise ValidationFailed(_("Unknown bot mode."), code="invalid_mode", field="mode")
    if mode == Mode.EXTERNAL:
        if not external_available():
            raise ValidationFailed(_("External bot platforms are not installed."), code="external_unavailable",
                                   field="mode")
        if external_kind not in EXTERNAL_KINDS:
            raise ValidationFailed(_("Choose a bot platform."), code="invalid_platform", field="external_kind")
    if not 0 <= threshold <= 1:
        raise ValidationFailed(_("The threshold is a number from 0 to 1."), code="invalid_threshold",
                               field="threshold")
    if not 1 <= max_turns <= 20:
        raise ValidationFailed(_("Turns must be from 1 to 20."), code="invalid_turns", field="max_turns")
    allowed = workspace.languages or [code for code, _name in django_settings.LANGUAGES]
    unknown = [code for code in languages if code not in allowed]
    if unknown:
        raise ValidationFailed(_("%(code)s is not one of this workspace's languages.") % {"code": unknown[0]},
                               code="invalid_language", field="languages")
    if schedule_id is None:
        return None
    schedule = BusinessSchedule.objects.filter(pk=schedule_id, workspace_id=workspace.pk).first()
    if schedule is None:
        raise ValidationFailed(_("That schedule is not in this workspace."), code="invalid_schedule",
                               field="schedule_id")
    return schedule


def do_save_settings(workspace: Workspace, settings: BotSettings | None, *, channel_id: int | None = None,
                     enabled: bool, mode: str = Mode.ANSWER_BOT, external_kind: str = "",
                     external_config: dict[str, Any] | None = None, threshold: float = 0.35, max_turns: int = 3,
                     greeting: str = "", languages: list[str] | None = None, schedule_id: int | None = None,
                     resolve_minutes: int = 30, abandon_hours: int = 24) -> BotSettings:
    """Create or change the bot of the workspace (`channel_id` None) or of one of its channels. An external
    config left None keeps the stored one (secrets are never shown back)."""
    languages = sorted({code.strip().lower() for code in languages or [] if code.strip()})
    schedule = check_settings(workspace, mode=mode, external_kind=external_kind, threshold=threshold,
                              max_turns=max_turns, languages=languages, schedule_id=schedule_id)
    if settings is None:
        from threadline.channels.models import Channel

        if channel_id is not None and not Channel.objects.filter(pk=channel_id, workspace_id=workspace.pk).exists():
            raise ValidationFailed(_("That channel is not in this workspace."), code="invalid_channel",
                                   field="channel_id")
        settings = BotSettings(workspace=workspace, channel_id=channel_id)
    settings.enabled, settings.mode, settings.external_kind = enabled, mode, external_kind if mode == Mode.EXTERNAL else ""
    settings.threshold, settings.max_turns, settings.greeting = threshold, max_turns, greeting.strip()[:500]
    settings.languages, settings.schedule = languages, schedule
    settings.resolve_minutes, settings.abandon_hours = max(1, resolve_minutes), max(1, abandon_hours)
    if external_config is not None:
        settings.external_config_encrypted = crypto.encrypt_json(external_config) if external_config else ""
    if settings.mode == Mode.EXTERNAL:
        from threadline.botplatforms.registry import validate_config

        validate_config(external_kind, settings.external_config)  # ValidationFailed naming the field
    created = settings.pk is None
    settings.save()
    record_change("bot_settings.created" if created else "bot_settings.updated", settings,
                  {"enabled": enabled, "mode": mode, "channel_id": settings.channel_id, "threshold": threshold})
    return settings


# ── a customer message ────────────────────────────────────────────────────────────────────────────────
def do_handle_message(message: Message, outbox_id: int) -> BotSession | None:
    """The bot's answer to one customer message (idempotent per event): engage a new conversation, answer a
    question, take a pick, hand over. None when the bot has nothing to do with this conversation."""
    conversation = Conversation.objects.select_for_update(of=("self",)).get(pk=message.conversation_id)
    session = BotSession.objects.select_for_update().filter(conversation=conversation).first()
    if session is None:
        if not would_engage(conversation, message):
            return None
        session = BotSession.objects.create(workspace_id=conversation.workspace_id, conversation=conversation,
                                            channel_id=message.channel_id)
        record_event(conversation, "bot_started", channel_id=message.channel_id)
    if session.state != SessionState.ACTIVE or outbox_id <= session.last_outbox_id:
        return session
    settings = settings_for(conversation.workspace_id, session.channel_id)
    session.last_outbox_id = outbox_id
    previous_customer_at, session.last_customer_at = session.last_customer_at, message.created_at
    taken = conversation.assignee_id is not None or Message.objects.filter(
        conversation=conversation, author_kind=AuthorKind.AGENT, is_note=False).exists()
    if settings is None or not settings.enabled or taken:  # an agent took over (or the bot was turned off)
        return _hand_over(session, conversation, "assigned" if taken else "disabled", "", silent=True)
    if (message.metadata or {}).get("suppress_auto_response"):
        session.save()
        return session  # an auto-responder: never answered
    if session.helped_at and previous_customer_at and session.helped_at + _window(settings) <= message.created_at:
        return _end(session, conversation, SessionState.RESOLVED)  # it helped; this is a new matter, for people
    language = message.language or conversation.language or conversation.workspace.default_language
    with translation.override(language):
        if settings.mode == Mode.EXTERNAL:
            _external_turn(session, conversation, settings, message, language)
        else:
            _answer_turn(session, conversation, settings, message, language)
    session.save()
    return session


def choice_of(session: BotSession, message: Message) -> str:
    """The pick a customer made: a native button (`metadata["choice"]`), or the number of one of the choices
    offered last on a channel without buttons ("1", "2"...), only while choices are pending."""
    metadata = message.metadata or {}
    picked = str(metadata.get("choice") or "")
    if picked and (picked in session.pending_choices or picked == wording.HANDOFF):
        return picked  # only what it offered ("talk to a person" is always on offer)
    text = (message.text or "").strip()
    if session.pending_choices and text.isdigit() and 1 <= int(text) <= len(session.pending_choices):
        return session.pending_choices[int(text) - 1]
    return ""


def _answer_turn(session: BotSession, conversation: Conversation, settings: BotSettings, message: Message,
                 language: str) -> BotSession:
    choice = choice_of(session, message)
    if choice == wording.HANDOFF or (not choice and wording.asks_for_person(message.text)):
        return _hand_over(session, conversation, "asked", language)
    if choice == wording.YES:
        session.helped_at = now()
        _say(session, conversation, wording.glad(), language)
        _check_later(session, settings, resolve=True)
        return session
    if choice == wording.NO:
        _say(session, conversation, wording.sorry(), language, wording.person_choice())
        return session
    session.helped_at = None
    if session.turns >= settings.max_turns:
        return _hand_over(session, conversation, "max_turns", language)
    email = session.channel is not None and session.channel.kind == EMAIL
    hits = retrieval.search(conversation.workspace_id, message.text, language=language,
                            brand_id=conversation.brand_id, limit=3 if email else 1)
    good = [hit for hit in hits if hit.score >= settings.threshold]
    if email:  # answered once per conversation, then people take it
        if good:
            session.articles = [hit.article_id for hit in good]
            _say(session, conversation, wording.email_answer(good), language)
        return _hand_over(session, conversation, EMAIL, language, silent=True)
    if not good:
        return _hand_over(session, conversation, "low_confidence", language, prefix=wording.not_found())
    greeting = settings.greeting if session.turns == 0 else ""
    session.turns += 1
    session.articles = [*session.articles, good[0].article_id]
    _say(session, conversation, wording.answer(good[0], greeting), language, wording.choices_after_answer())
    _check_later(session, settings, resolve=False)
    return session


def _external_turn(session: BotSession, conversation: Conversation, settings: BotSettings, message: Message,
                   language: str) -> BotSession:
    """An external bot platform's turn (Dialogflow CX, Lex V2, Bot Framework): a request for a person and the
    turn cap are decided here; the platform is called by a job (network I/O never runs in a subscriber)."""
    from threadline.bot.tasks import external_turn_task

    choice = choice_of(session, message)
    if choice == wording.HANDOFF or (not choice and wording.asks_for_person(message.text)):
        return _hand_over(session, conversation, "asked", language)
    if session.turns >= settings.max_turns:
        return _hand_over(session, conversation, "max_turns", language)
    session.save()
    external_turn_task.enqueue(session.pk, message.pk, choice, unique_key=f"bot-external:{message.pk}")
    return session


def external_request(session_id: int, message_id: int, choice: str) -> dict[str, Any] | None:
    """What to send the platform for one customer message (read without locks, before the call); None when the
    session is no longer the bot's."""
    session = BotSession.objects.filter(pk=session_id, state=SessionState.ACTIVE).first()
    message = Message.objects.select_related("conversation__workspace").filter(pk=message_id).first()
    settings = settings_for(session.workspace_id, session.channel_id) if session else None
    if session is None or message is None or settings is None or settings.mode != Mode.EXTERNAL:
        return None
    conversation = message.conversation
    return {"kind": settings.external_kind, "config": settings.external_config,
            "session_id": f"threadline-{conversation.pk}", "text": message.text, "choice": choice or None,
            "language": message.language or conversation.language or conversation.workspace.default_language,
            "state": session.external_state}


def do_apply_external_turn(session_id: int, request: dict[str, Any], turn: Any) -> BotSession | None:
    """Post the platform's answer (`turn`, None when it failed) as bot turns, with its choices and "talk to a
    person"; its hand-off signal (or its failure) hands over."""
    session = BotSession.objects.select_for_update().select_related("conversation").filter(pk=session_id).first()
    if session is None or session.state != SessionState.ACTIVE:
        return session
    conversation, language = session.conversation, request["language"]
    if turn is None:
        return _hand_over(session, conversation, "external_failed", language)
    session.turns += 1
    session.external_state_encrypted = crypto.encrypt_json(turn.state) if turn.state else ""
    texts = [str(t) for t in turn.messages if str(t).strip()]
    with translation.override(language):
        for index, text in enumerate(texts):
            choices: list[dict[str, str]] = []
            if index == len(texts) - 1 and not turn.handoff:
                choices = [{"id": str(c.get("id", "")), "label": str(c.get("label", ""))} for c in turn.choices or []]
                if not any(c["id"] == wording.HANDOFF for c in choices):
                    choices.append(wording.person_choice()[0])
                choices = fitted(choices, _max_choices(session), keep=wording.HANDOFF)
            _say(session, conversation, text, language, choices)
        if turn.handoff:
            return _hand_over(session, conversation, "external", language, silent=bool(texts),
                              detail=turn.handoff_reason)
    settings = settings_for(session.workspace_id, session.channel_id)
    if settings is not None:
        _check_later(session, settings, resolve=False)
    session.save()
    return session


def _max_choices(session: BotSession) -> int:
    """How many buttons the session's channel shows (the adapter's capabilities: the number surveys read too)."""
    kind = Channel.objects.filter(pk=session.channel_id).values_list("kind", flat=True).first()
    return adapter_for(kind).capabilities.max_choices if kind else 0


def _say(session: BotSession, conversation: Conversation, text: str, language: str,
         choices: list[dict[str, str]] | None = None) -> Message | None:
    """Send one bot turn; the choices it offers become the pending ones. None when the channel refuses."""
    try:
        sent = do_send_bot_message(conversation, text, language=language, choices=choices)
    except ValidationFailed as exc:
        logger.info("the bot cannot answer on conversation %s: %s", conversation.pk, exc.code)
        session.pending_choices = []
        return None
    session.pending_choices = [c["id"] for c in choices or []]
    session.last_bot_at = sent.created_at
    return sent


def _window(settings: BotSettings | None) -> dt.timedelta:
    return dt.timedelta(minutes=settings.resolve_minutes if settings else 30)


def _check_later(session: BotSession, settings: BotSettings, *, resolve: bool) -> None:
    from threadline.bot.tasks import check_session_task

    session.save()
    at = now() + (_window(settings) if resolve else dt.timedelta(hours=settings.abandon_hours))
    check_session_task.enqueue(session.pk, run_after=at, unique_key=f"bot-check:{session.pk}:{session.last_outbox_id}")


def schedule_of(settings: BotSettings | None, conversation: Conversation) -> BusinessSchedule | None:
    """When people answer: the bot's schedule, else the brand's, else the workspace's only one."""
    if settings is not None and settings.schedule is not None:
        return settings.schedule
    if conversation.brand_id:
        found = BusinessSchedule.objects.filter(brand_id=conversation.brand_id).first()
        if found is not None:
            return found
    schedules = list(BusinessSchedule.objects.filter(workspace_id=conversation.workspace_id)[:2])
    return schedules[0] if len(schedules) == 1 else None


def opening_text(settings: BotSettings | None, conversation: Conversation) -> str:
    """"" while people are at work; else when they are next, in the workspace's time zone and the active
    language ("" when the schedule never opens again)."""
    schedule = schedule_of(settings, conversation)
    moment = now()
    if schedule is None:
        return ""
    calendar = schedule.calendar()
    if is_open(calendar, moment):
        return ""
    opens = next_open(calendar, moment)
    if opens is None:
        return ""
    local = opens.astimezone(ZoneInfo(conversation.workspace.time_zone or "UTC"))
    return formats.date_format(local, "DATETIME_FORMAT")


def _hand_over(session: BotSession, conversation: Conversation, reason: str, language: str, *,
               silent: bool = False, detail: str = "", prefix: str = "") -> BotSession:
    """Give the conversation to people: tell the customer (and when people are back), route it."""
    from threadline.routing.actions import do_route

    if not silent:
        settings = settings_for(conversation.workspace_id, session.channel_id)
        with translation.override(language or None):
            when = opening_text(settings, conversation)
            lines = [prefix, wording.handing_over(reason), wording.away(when) if when else ""]
        _say(session, conversation, "\n".join(line for line in lines if line), language)
    session.pending_choices = []
    _end(session, conversation, SessionState.HANDED_OVER, reason=reason, detail=detail)
    conversation.refresh_from_db()
    do_route(conversation)
    return session


def _end(session: BotSession, conversation: Conversation, state: str, *, reason: str = "",
         detail: str = "") -> BotSession:
    session.state, session.reason, session.ended_at = state, reason[:32], now()
    session.save()
    record_event(conversation, f"bot_{state}", reason=reason, detail=detail[:500], turns=session.turns)
    common = {"workspace_id": conversation.workspace_id, "conversation_id": conversation.pk,
              "channel_id": session.channel_id, "turns": session.turns}
    if state == SessionState.HANDED_OVER:
        publish(BotHandedOver(**common, reason=reason))
    elif state == SessionState.RESOLVED:
        publish(BotResolved(**common, article_ids=[int(a) for a in session.articles]))
        if conversation.status not in (Status.SOLVED, Status.CLOSED):
            do_update_conversation(None, conversation, status=Status.SOLVED)
    else:
        publish(BotAbandoned(**common))
        if conversation.status not in (Status.SOLVED, Status.CLOSED):
            do_update_conversation(None, conversation, status=Status.SOLVED)
    return session


def do_check_session(session_id: int) -> BotSession | None:
    """The outcome once time has passed: "Yes" and nothing more within the window → resolved; the customer
    silent since the bot's last turn for the abandon hours → abandoned. Idempotent."""
    session = BotSession.objects.select_for_update().select_related("conversation").filter(pk=session_id).first()
    if session is None or session.state != SessionState.ACTIVE:
        return session
    settings = settings_for(session.workspace_id, session.channel_id)
    moment = now()
    quiet_since = session.last_customer_at is None or (session.last_bot_at and session.last_customer_at <= session.last_bot_at)
    if session.helped_at and quiet_since and session.helped_at + _window(settings) <= moment:
        return _end(session, session.conversation, SessionState.RESOLVED)
    hours = dt.timedelta(hours=settings.abandon_hours if settings else 24)
    if not session.helped_at and quiet_since and session.last_bot_at and session.last_bot_at + hours <= moment:
        return _end(session, session.conversation, SessionState.ABANDONED)
    return session
