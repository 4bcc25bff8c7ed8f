"""The request body limit, counted on the bytes as they arrive (ASGI), for every HTTP path.

Django's ASGI handler reads the whole body into a temporary file before any view runs, and a chunked body
(`Transfer-Encoding: chunked`) has no Content-Length to check beforehand: a view that checks the header
accepts any size. `BodyLimit` wraps the Django application: a declared Content-Length over the limit is
refused at once, and otherwise the body is counted as the server hands it over; at limit + 1 bytes Django
is told the client went away (so it stops reading and answers nothing) and the client gets 413 with the JSON
error `{"code": "payload_too_large", ...}`.

Limits by path: provider webhooks (`/hooks/`) `THREADLINE["INBOUND_MAX_BYTES"]`; requests that carry
attachments (the chat widget, the agent workspace's composer) `THREADLINE["UPLOAD_MAX_BYTES"]`; anything
else `DATA_UPLOAD_MAX_MEMORY_SIZE`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_PREFIXES = ("/widget/", "/app/x/")


def body_limit(path: str) -> int:
    """The most bytes a request body to `path` may have."""
    limits = settings.THREADLINE
    if path.startswith("/hooks/"):
        return int(limits["INBOUND_MAX_BYTES"])
    if path.startswith(UPLOAD_PREFIXES):
        return int(limits["UPLOAD_MAX_BYTES"])
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def too_large(send: Send) -> None:
    body = json.dumps({"code": "payload_too_large", "message": _("The payload is too large.")}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: refuse request bodies over `body_limit(path)`, counting the bytes as they arrive."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""))
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await too_large(send)
            return
        received = 0
        exceeded = started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted, watched)
        if exceeded and not started:
            await too_large(send)
