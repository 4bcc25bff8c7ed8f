"""WebSocket routes; the agent and widget consumers are added by the workspace and chat issues."""

websocket_urlpatterns: list[object] = []
