"""Django's HTTP under ASGI, each request handled whole by one thread of a fixed pool, as under WSGI.

Django's own `ASGIHandler` runs every request in a `ThreadSensitiveContext`: asgiref starts a thread for the
request's sync code and another to shut that thread down, and each sync-only middleware is a hop between the
event loop and that thread. Measured under `bench/ingest.py` (600 webhooks, 4 clients, SQLite,
docs/performance.md "The web's threads"): 3.3 ms of CPU per request in threads that lived for one request and
2.2 ms in the event loop's hops, beside 4.6 ms for the worker's whole processing of the message. A request's
database connection and its prepared queries (`core.prepared`, kept per thread and connection) were new for
every request, so each request compiled its queries again.

`PooledASGIHandler` reads the body on the event loop (as Django does: the body limit, `core.body_limit`,
counts it there), then runs the rest in one thread of its pool with the middleware loaded for sync use:
`request_started`, the request, the response and its `close()` (`request_finished`, which hands the
request's database connection back: PostgreSQL's pool, `core.sqlite`'s idle connections). A plain response is
sent from the event loop; a streaming one is sent by the thread as it iterates it, so its database reads stay
on the request's connection. Requests beyond the pool's threads wait for one, after their body is read.
The pool's threads keep their context (connections, prepared queries) from one request to the next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]

THREAD_NAME = "threadline-web"


def response_start(response: HttpResponseBase) -> Message:
    """The `http.response.start` message of a response: its status, headers and cookies (as Django's
    `ASGIHandler.send_response` builds it)."""
    headers = [(header.encode("ascii") if isinstance(header, str) else bytes(header),
                value.encode("latin1") if isinstance(value, str) else bytes(value))
               for header, value in response.items()]
    headers.extend((b"Set-Cookie", cookie.output(header="").encode("ascii").strip())
                   for cookie in response.cookies.values())
    return {"type": "http.response.start", "status": response.status_code, "headers": headers}


class PooledASGIHandler(ASGIHandler):
    """Django's ASGI handler for HTTP with each request's sync work in one thread of `threads`."""

    def __init__(self, threads: int) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=THREAD_NAME)

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(self.pool, self.respond, scope, body_file, send, loop)
        finally:
            body_file.close()
        if response is None:  # streamed by the thread
            return
        if response.streaming:  # an asynchronous iterator: sent from the loop, closed in the pool
            try:
                await self.send_response(response, send)
            finally:
                await loop.run_in_executor(self.pool, response.close)
            return
        await self.send_response(response, send)

    def respond(self, scope: Message, body_file: Any, send: Send,
                loop: asyncio.AbstractEventLoop) -> HttpResponseBase | None:
        """The request's response, closed, for the loop to send; None when it was streamed here."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
        response._handler_class = self.__class__  # noqa: SLF001 - as Django's handlers mark it
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size  # the ASGI server chunks further
        if response.streaming and response.is_async:
            return response
        if not response.streaming:
            response.close()  # request_finished: this thread's connections go back now
            return response
        try:
            self.stream(response, send, loop)
        finally:
            response.close()
        return None

    def stream(self, response: HttpResponseBase, send: Send, loop: asyncio.AbstractEventLoop) -> None:
        """Send a streaming response from this thread, each part as it is produced."""

        def put(message: Message) -> None:
            asyncio.run_coroutine_threadsafe(send(message), loop).result()  # type: ignore[arg-type]

        put(response_start(response))
        for part in response:
            for chunk, _last in self.chunk_bytes(part):
                put({"type": "http.response.body", "body": chunk, "more_body": True})
        put({"type": "http.response.body"})
