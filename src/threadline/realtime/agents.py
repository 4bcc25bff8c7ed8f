"""The agent workspace's socket: domain events, presence, viewers and typing (collision detection).

Authenticated with the Django session (the route is wrapped in AuthMiddlewareStack and an origin check).
Client → server messages (JSON, `type`):
- `hello` {last_event_id}: replay the outbox after that id (with a small overlap, see below), then `caught_up`;
- `ping`: heartbeat (presence and viewer entries expire without it);
- `view` {conversation_id} / `unview`: the agent looks at a conversation (one at a time per socket);
- `typing` {conversation_id, typing}: shown to other viewers, and to the customer on live channels;
- `read` {conversation_id, message_id}: the agent has seen the customer's messages up to that id.
Server → client: `welcome`, `event` {id, event, payload}, `caught_up`, `resync`, `presence`, `viewers`, `pong`.

Replay overlap: outbox ids are taken at insert, so a transaction that commits late can carry a lower id than
one the client already saw. Replays therefore start REPLAY_OVERLAP ids before the client's last id and the
client drops ids it has seen.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from threadline.realtime import presence, sessions
from threadline.realtime.auth import membership_for
from threadline.realtime.dispatch import agroup_send, remember_loop
from threadline.realtime.groups import (
    agent_group,
    contact_group,
    conversation_group,
    session_group,
    user_group,
    workspace_group,
)
from threadline.tenancy.permissions import Permission, has_permission

REPLAY_OVERLAP = 50
REPLAY_LIMIT = 500


def _cache(func: Any) -> Any:
    return sync_to_async(func, thread_sensitive=False)


@database_sync_to_async
def _membership(user: Any, session: Any) -> Any:
    return membership_for(user, session)


@database_sync_to_async
def _still_signed_in(membership_id: int, session_key: str | None, signed_hash: str) -> bool:
    return sessions.still_signed_in(membership_id, session_key, signed_hash)


@database_sync_to_async
def _replay(workspace_id: int, last_event_id: int) -> tuple[list[dict[str, Any]], bool]:
    from threadline.events.models import OutboxEvent

    rows = list(
        OutboxEvent.objects.filter(workspace_id=workspace_id, pk__gt=max(0, last_event_id - REPLAY_OVERLAP))
        .order_by("pk").values("pk", "type", "payload")[: REPLAY_LIMIT + 1]
    )
    return [{"id": r["pk"], "event": r["type"], "payload": r["payload"]} for r in rows[:REPLAY_LIMIT]], \
        len(rows) > REPLAY_LIMIT


@database_sync_to_async
def _conversation(agent: Any, conversation_id: Any) -> dict[str, Any] | None:
    """What the socket needs about a conversation the agent may see, or None."""
    from threadline.channels.registry import ADAPTERS, adapter_for
    from threadline.conversations.queries import access_conversation
    from threadline.core.errors import NotFound

    try:
        conversation = access_conversation(agent, int(conversation_id))
    except (NotFound, TypeError, ValueError):
        return None
    channel = conversation.last_inbound_channel or conversation.origin_channel
    live = bool(channel and channel.kind in ADAPTERS and adapter_for(channel.kind).capabilities.typing)
    return {"id": conversation.pk, "contact_id": conversation.contact_id, "live": live}


class AgentConsumer(AsyncJsonWebsocketConsumer):
    agent: Any = None
    viewing: dict[str, Any] | None = None

    async def connect(self) -> None:
        remember_loop()
        self.agent = await _membership(self.scope.get("user"), self.scope.get("session"))
        if self.agent is None:
            await self.close(code=4401)
            return
        if not has_permission(self.agent, Permission.VIEW):  # the socket carries conversations and contacts
            self.agent = None
            await self.close(code=4403)
            return
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        self.signed_hash = sessions.auth_hash(session)
        self.groups_joined = [workspace_group(self.agent.workspace_id), agent_group(self.agent.pk),
                              user_group(self.agent.user_id)]
        if self.session_key:
            self.groups_joined.append(session_group(self.session_key))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        status = await _cache(presence.agent_connected)(self.agent.pk, self.channel_name)
        await self.send_json({"type": "welcome", "membership_id": self.agent.pk, "status": status})
        await self._announce_presence(status)

    async def disconnect(self, code: int) -> None:
        if self.agent is None:
            return
        await self._stop_viewing()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        status = await _cache(presence.agent_disconnected)(self.agent.pk, self.channel_name)
        await self._announce_presence(status)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "hello":
            await self._replay(content.get("last_event_id"))
        elif kind == "ping":
            if not await _still_signed_in(self.agent.pk, self.session_key, self.signed_hash):
                await self.close(code=sessions.CLOSE_CODE)
                return
            await _cache(presence.agent_connected)(self.agent.pk, self.channel_name)
            if self.viewing is not None:
                await _cache(presence.viewer_joined)(self.viewing["id"], self.channel_name, self.agent.pk,
                                                     self._name())
            await self.send_json({"type": "pong"})
        elif kind == "view":
            await self._view(content.get("conversation_id"))
        elif kind == "unview":
            await self._stop_viewing()
        elif kind == "typing":
            await self._typing(bool(content.get("typing")), internal=bool(content.get("internal")))
        elif kind == "read" and self.viewing is not None:
            message_id = content.get("message_id")
            if isinstance(message_id, int) and self.viewing["live"]:
                await agroup_send(contact_group(self.viewing["contact_id"]),
                                  {"type": "agent.read", "conversation_id": self.viewing["id"], "up_to": message_id})

    # ── helpers ──
    def _name(self) -> str:
        user = self.agent.user
        return user.name or user.email

    async def _announce_presence(self, status: str) -> None:
        await agroup_send(workspace_group(self.agent.workspace_id),
                          {"type": "presence.changed", "membership_id": self.agent.pk, "status": status})

    async def _replay(self, last_event_id: Any) -> None:
        if not isinstance(last_event_id, int) or last_event_id < 0:
            return
        events, truncated = await _replay(self.agent.workspace_id, last_event_id)
        if truncated:
            await self.send_json({"type": "resync"})
            return
        for event in events:
            await self.send_json({"type": "event", **event, "replayed": True})
        await self.send_json({"type": "caught_up", "last_event_id": events[-1]["id"] if events else last_event_id})

    async def _view(self, conversation_id: Any) -> None:
        conversation = await _conversation(self.agent, conversation_id)
        if conversation is None:
            return
        if self.viewing is not None and self.viewing["id"] != conversation["id"]:
            await self._stop_viewing()
        self.viewing = conversation
        group = conversation_group(conversation["id"])
        await self.channel_layer.group_add(group, self.channel_name)
        viewers = await _cache(presence.viewer_joined)(conversation["id"], self.channel_name, self.agent.pk,
                                                      self._name())
        await agroup_send(group, {"type": "viewers.changed", "conversation_id": conversation["id"],
                                  "viewers": viewers})

    async def _stop_viewing(self) -> None:
        if self.viewing is None:
            return
        conversation, self.viewing = self.viewing, None
        group = conversation_group(conversation["id"])
        await self.channel_layer.group_discard(group, self.channel_name)
        viewers = await _cache(presence.viewer_left)(conversation["id"], self.channel_name)
        await agroup_send(group, {"type": "viewers.changed", "conversation_id": conversation["id"],
                                  "viewers": viewers})

    async def _typing(self, typing: bool, *, internal: bool = False) -> None:
        """Other viewers see it; the customer too on live channels, unless the agent writes an internal note."""
        if self.viewing is None:
            return
        conversation = self.viewing
        viewers = await _cache(presence.viewer_typing)(conversation["id"], self.channel_name, self.agent.pk,
                                                      self._name(), typing)
        await agroup_send(conversation_group(conversation["id"]),
                          {"type": "viewers.changed", "conversation_id": conversation["id"], "viewers": viewers})
        if conversation["live"] and not internal:
            first_name = self._name().split(" ")[0]
            await agroup_send(contact_group(conversation["contact_id"]),
                              {"type": "agent.typing", "conversation_id": conversation["id"], "typing": typing,
                               "name": first_name})

    # ── group messages ──
    async def session_close(self, message: dict[str, Any]) -> None:
        """Sign-out, a password change: the session behind this socket ended."""
        await self.close(code=sessions.CLOSE_CODE)

    async def domain_event(self, message: dict[str, Any]) -> None:
        payload = message.get("payload") or {}
        if (message.get("event") == "agent.updated" and payload.get("membership_id") == self.agent.pk
                and (payload.get("changes") or {}).get("is_active") is False):
            await self.close(code=sessions.CLOSE_CODE)  # deactivated: the seat no longer opens anything
            return
        await self.send_json({"type": "event", "id": message["id"], "event": message["event"],
                              "payload": message["payload"]})

    async def presence_changed(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "presence", "membership_id": message["membership_id"],
                              "status": message["status"]})

    async def viewers_changed(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "viewers", "conversation_id": message["conversation_id"],
                              "viewers": message["viewers"]})

    async def visitor_typing(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "customer_typing", "conversation_id": message["conversation_id"],
                              "typing": message["typing"]})
