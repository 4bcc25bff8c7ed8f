"""WebSocket routes: the agent workspace, and one route per channel kind whose adapter keeps a live socket
(the chat widget): `ws/<kind>/<channel_id>/`, served by the consumer the adapter names
(`websocket_consumer()`), so this module never names a channel kind."""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from threadline.channels.registry import ADAPTERS, adapter_for
from threadline.realtime.agents import AgentConsumer


def channel_routes() -> list[Any]:
    routes = []
    for kind in sorted(ADAPTERS):
        factory = getattr(adapter_for(kind), "websocket_consumer", None)
        if factory is not None:
            routes.append(path(f"ws/{kind}/<int:channel_id>/", factory()))
    return routes


websocket_urlpatterns: list[Any] = [
    path("ws/agent/", AllowedHostsOriginValidator(AuthMiddlewareStack(AgentConsumer.as_asgi()))),
    *channel_routes(),
]
