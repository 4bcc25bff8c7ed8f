"""The widget's socket: `ws/webchat/<channel_id>/?token=<visitor token>`.

Client → server (JSON, `type`): `message` {client_id, text, choice?: a bot button's id}; `typing` {typing}; `receipt` {status:
delivered|read, up_to}; `ping`. Server → client: `welcome` {visitor, agents_available, conversation_id},
`ack` {client_id, message}, `message` {message}, `typing` {typing, name}, `read` {up_to}, `error` {code,
message, client_id}, `pong`.

The visitor's sockets join their contact's group, where agents' replies (adapter.send), typing and read
receipts arrive; while one is open the customer counts as online (replies are not emailed).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.cache import cache
from django.db import transaction
from django.utils import translation

from threadline.channels.webchat import actions, queries
from threadline.core import jsonsafe
from threadline.core.errors import ThreadlineError
from threadline.core.time import now
from threadline.realtime import presence
from threadline.realtime.dispatch import agroup_send, remember_loop
from threadline.realtime.groups import contact_group, conversation_group

RATE_LIMIT = 30  # messages per visitor per minute


def _cache(func: Any) -> Any:
    return sync_to_async(func, thread_sensitive=False)


@database_sync_to_async
def _open(channel_id: int, token: str) -> tuple[Any, Any, dict[str, Any]] | None:
    channel = queries.live_channel(channel_id)
    if channel is None:
        return None
    visitor = queries.visitor_for_token(channel, token)
    if visitor is None or queries.identity_lapsed(visitor):
        return None
    contact = queries.contact_of(visitor)
    visitor.last_seen_at = now()
    visitor.save(update_fields=["last_seen_at", "updated_at"])
    return channel, visitor, {
        "contact_id": contact.pk if contact else None,
        "conversation_id": queries.current_conversation_id(channel, contact),
        "agents_available": queries.agents_available(channel),
    }


@database_sync_to_async
def _receive(channel: Any, visitor_pk: int, client_id: Any, text: Any, language: str,
             choice: Any = None) -> dict[str, Any]:
    from threadline.channels.webchat.models import Visitor

    with translation.override(language or None), transaction.atomic():
        visitor = Visitor.objects.select_for_update().get(pk=visitor_pk)
        message = actions.do_receive_visitor_message(channel, visitor, client_id=client_id, text=text,
                                                     choice=choice)
        return {"message": queries.message_payload(message), "contact_id": message.conversation.contact_id}


@database_sync_to_async
def _receipt(channel: Any, visitor_pk: int, status: Any, up_to: Any) -> None:
    from threadline.channels.webchat.models import Visitor

    with transaction.atomic():
        visitor = Visitor.objects.get(pk=visitor_pk)
        actions.do_record_receipt(channel, visitor, status=status, up_to=up_to)


def _allow(visitor_pk: int) -> bool:
    key = f"tl:webchat:rate:{visitor_pk}"
    cache.add(key, 0, 60)
    try:
        return cache.incr(key) <= RATE_LIMIT
    except ValueError:
        return True


class VisitorConsumer(AsyncJsonWebsocketConsumer):
    channel: Any = None
    visitor: Any = None
    contact_id: int | None = None
    conversation_id: int | None = None

    async def connect(self) -> None:
        remember_loop()
        query = parse_qs(self.scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[0]
        self.language = (query.get("lang") or [""])[0][:8]
        opened = await _open(int(self.scope["url_route"]["kwargs"]["channel_id"]), token)
        if opened is None:
            await self.close(code=4401)
            return
        self.channel, self.visitor, state = opened
        self.conversation_id = state["conversation_id"]
        await self.accept()
        if state["contact_id"]:
            await self._join(state["contact_id"])
        await self.send_json({"type": "welcome", "agents_available": state["agents_available"],
                              "conversation_id": self.conversation_id})

    async def disconnect(self, code: int) -> None:
        if self.contact_id is not None:
            await self.channel_layer.group_discard(contact_group(self.contact_id), self.channel_name)
            await _cache(presence.contact_disconnected)(self.contact_id, self.channel_name)
            await self._typing(False)

    async def _join(self, contact_id: int) -> None:
        if self.contact_id == contact_id:
            return
        if self.contact_id is not None:
            await self.channel_layer.group_discard(contact_group(self.contact_id), self.channel_name)
            await _cache(presence.contact_disconnected)(self.contact_id, self.channel_name)
        self.contact_id = contact_id
        await self.channel_layer.group_add(contact_group(contact_id), self.channel_name)
        await _cache(presence.contact_connected)(contact_id, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """A frame that is not JSON, or nests too deeply, gets an error frame (never a crashed consumer)."""
        try:
            content = jsonsafe.loads(text_data if text_data is not None else bytes_data or b"")
        except jsonsafe.Unreadable:
            await self.send_json({"type": "error", "code": "invalid_json", "message": "The frame is not JSON."})
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "message":
            await self._message(content)
        elif kind == "typing":
            await self._typing(bool(content.get("typing")))
        elif kind == "receipt":
            try:
                await _receipt(self.channel, self.visitor.pk, content.get("status"), content.get("up_to"))
            except ThreadlineError as exc:
                await self.send_json({"type": "error", "code": exc.code, "message": exc.message})
        elif kind == "ping":
            if self.contact_id is not None:
                await _cache(presence.contact_connected)(self.contact_id, self.channel_name)
            await self.send_json({"type": "pong"})

    async def _message(self, content: dict[str, Any]) -> None:
        client_id = content.get("client_id")
        if not await _cache(_allow)(self.visitor.pk):
            await self.send_json({"type": "error", "code": "rate_limited", "client_id": client_id,
                                  "message": "rate limited"})
            return
        try:
            stored = await _receive(self.channel, self.visitor.pk, client_id, content.get("text"), self.language,
                                    content.get("choice"))
        except ThreadlineError as exc:
            await self.send_json({"type": "error", "code": exc.code, "message": exc.message, "client_id": client_id})
            return
        await self._join(stored["contact_id"])
        self.conversation_id = stored["message"]["conversation_id"]
        await self.send_json({"type": "ack", "client_id": client_id, "message": stored["message"]})
        # The visitor's other tabs show it too (each tab drops ids it already shows).
        await agroup_send(contact_group(stored["contact_id"]), {"type": "visitor.message", "message": stored["message"]})

    async def _typing(self, typing: bool) -> None:
        if self.conversation_id is not None:
            await agroup_send(conversation_group(self.conversation_id),
                              {"type": "visitor.typing", "conversation_id": self.conversation_id, "typing": typing})

    # ── group messages ──
    async def visitor_message(self, message: dict[str, Any]) -> None:
        payload = message["message"]
        self.conversation_id = payload.get("conversation_id", self.conversation_id)
        await self.send_json({"type": "message", "message": payload})

    async def agent_typing(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "typing", "typing": message["typing"], "name": message.get("name", "")})

    async def agent_read(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "read", "up_to": message["up_to"]})
