"""Reads for the bot: which settings apply to a channel, whether the bot holds a conversation, deflection."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from threadline.bot.models import BotSession, BotSettings, SessionState
from threadline.conversations.models import AuthorKind, Conversation, Direction, Message
from threadline.core import batch_cache
from threadline.core.prepared import Prepared
from threadline.tenancy.models import Membership, Workspace
from threadline.tenancy.permissions import Permission, require

NEW_CONVERSATION = "new_conversation"
# The channel kinds the bot answers on: messaging channels and email. Not the portal (a customer's web form, a
# community post moved to private: people answer those), the API channel (an integration's own flow) or voice.
KINDS = ("webchat", "whatsapp", "telegram", "line", "messenger", "instagram", "sms", "wechat", "email")


def settings_for(workspace_id: int, channel_id: int | None) -> BotSettings | None:
    """The channel's own settings, else the workspace's; None when neither exists."""
    rows = {s.channel_id: s for s in BotSettings.objects.filter(workspace_id=workspace_id).filter(
        Q(channel_id=channel_id) | Q(channel__isnull=True)).select_related("schedule")}
    return rows.get(channel_id) or rows.get(None)


def speaks(settings: BotSettings, language: str) -> bool:
    return not settings.languages or language in settings.languages


def would_engage(conversation: Conversation, message: Message) -> bool:
    """A new conversation, started by this customer message on a channel whose bot is on, nobody assigned,
    in a language the bot speaks, and not an automatic message (an auto-responder is never answered)."""
    if (message.direction != Direction.INBOUND or message.author_kind != AuthorKind.CONTACT
            or conversation.assignee_id is not None or conversation.thread_key):
        return False
    metadata = message.metadata or {}
    if (metadata.get("threading") or {}).get("rule") != NEW_CONVERSATION or metadata.get("suppress_auto_response"):
        return False
    if message.channel is None or message.channel.kind not in KINDS:
        return False
    settings = settings_for(conversation.workspace_id, message.channel_id)
    return bool(settings and settings.enabled and speaks(settings, message.language))


def holds(conversation: Conversation, message_id: int | None = None) -> bool:
    """True while the bot answers the conversation, so routing leaves it alone until the hand-off.

    Whichever subscriber runs first: before the bot saw the conversation's first message, it holds the
    conversation when it will engage. A workspace without a bot switched on costs one cached read a batch."""
    if not bot_enabled(conversation.workspace_id):
        return False
    session = BotSession.objects.filter(conversation_id=conversation.pk).values_list("state", "channel_id").first()
    if session is not None:
        settings = settings_for(conversation.workspace_id, session[1])
        return session[0] == SessionState.ACTIVE and bool(settings and settings.enabled)
    message = Message.objects.filter(pk=message_id).first() if message_id else None
    return message is not None and would_engage(conversation, message)


_ENABLED = Prepared(lambda workspace_id: BotSettings.objects.filter(workspace_id=workspace_id, enabled=True))


def bot_enabled(workspace_id: int) -> bool:
    """Whether any bot of the workspace is on (read once per worker batch, `core.batch_cache`)."""
    return bool(batch_cache.cached(("bot-enabled", workspace_id), lambda: _ENABLED.exists(workspace_id)))


def access_settings(actor: Membership, settings_id: int) -> BotSettings:
    from threadline.core.errors import NotFound

    require(actor, Permission.ADMIN_AUTOMATIONS)
    found = BotSettings.objects.filter(pk=settings_id, workspace_id=actor.workspace_id).first()
    if found is None:
        raise NotFound("bot settings")
    return found


def list_settings(actor: Membership) -> list[BotSettings]:
    require(actor, Permission.ADMIN_AUTOMATIONS)
    return list(BotSettings.objects.filter(workspace_id=actor.workspace_id).select_related("channel", "schedule")
                .order_by("channel_id"))


def deflection(workspace: Workspace) -> dict[str, Any]:
    """How the bot's conversations ended: counts per state, and the share the bot resolved."""
    counts = dict(BotSession.objects.filter(workspace_id=workspace.pk).values_list("state")
                  .annotate(n=Count("id")).values_list("state", "n"))
    ended = sum(counts.get(s, 0) for s in (SessionState.RESOLVED, SessionState.HANDED_OVER, SessionState.ABANDONED))
    return {**{s.value: counts.get(s.value, 0) for s in SessionState},
            "deflection_rate": round(counts.get(SessionState.RESOLVED, 0) / ended, 3) if ended else None}
