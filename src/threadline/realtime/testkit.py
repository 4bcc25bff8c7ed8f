"""Test helpers for sockets: an isolated channel layer and cache per test, signed-in agent sockets, and a
thread that writes like the job worker does (its own connection, outside any event loop).

Import the fixture into a test module: `from threadline.realtime.testkit import realtime  # noqa: F401`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings as django_settings
from django.db import close_old_connections, connection

ORIGIN = (b"origin", b"http://127.0.0.1")
TIMEOUT = 5


class WebsocketCommunicator(ApplicationCommunicator):
    """A WebSocket client speaking ASGI to the application in this process (Channels' own communicator
    lives in a package that needs Daphne, which Threadline does not use)."""

    def __init__(self, app: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        parts = urlsplit(path)
        super().__init__(app, {
            "type": "websocket", "path": parts.path, "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(), "headers": headers or [], "subprotocols": [],
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80),
        })

    async def connect(self, timeout: float = TIMEOUT) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        return True, response.get("subprotocol")

    async def send_json_to(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json_from(self, timeout: float = TIMEOUT) -> Any:
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            raise ConnectionError(f"socket closed with {response.get('code')}")
        return json.loads(response["text"])

    async def receive_nothing(self, timeout: float = 1.0) -> bool:
        """True when no message arrives within `timeout` (without cancelling the application)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not self.output_queue.empty():
                return False
            await asyncio.sleep(0.05)
        return self.output_queue.empty()

    async def disconnect(self, code: int = 1000, timeout: float = TIMEOUT) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


@pytest.fixture
def realtime(settings: Any) -> Iterator[None]:
    """A channel layer and a cache of this test's own: Redis with a unique prefix in scaled mode (tests of
    several processes share one server), in-memory otherwise."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    if django_settings.REDIS_URL:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                               "CONFIG": {"hosts": [django_settings.REDIS_URL], "prefix": prefix}}}
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": django_settings.REDIS_URL, "KEY_PREFIX": prefix}}
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                       "LOCATION": prefix}}
    yield


def application() -> Any:
    from threadline.config.asgi import application as app

    return app


def agent_socket(session_key: str, *, origin: bytes = ORIGIN[1]) -> WebsocketCommunicator:
    headers = [(b"origin", origin), (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={session_key}".encode())]
    return WebsocketCommunicator(application(), "/ws/agent/", headers=headers)


def session_for(client: Any, user: Any) -> str:
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


async def receive_until(socket: WebsocketCommunicator, wanted: Callable[[dict[str, Any]], bool],
                        timeout: float = TIMEOUT) -> dict[str, Any]:
    """The first message `wanted` accepts (others are skipped); fails after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError("the expected socket message never came")
        message = await socket.receive_json_from(timeout=remaining)
        if wanted(message):
            return message


async def in_worker_thread(func: Callable[[], Any]) -> Any:
    """Run `func` in a plain thread with its own database connection, as the embedded job worker does."""
    result: dict[str, Any] = {}

    def run() -> None:
        close_old_connections()
        try:
            result["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="test-worker")
    thread.start()
    await asyncio.to_thread(thread.join)
    if "error" in result:
        raise result["error"]
    return result.get("value")


async def open_socket(session: str) -> Any:
    """An agent socket of `session`, connected and past its welcome."""
    socket = agent_socket(session)
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "welcome"
    return socket


async def close_code(socket: Any, timeout: float = 5) -> int | None:
    """The close code the server sent (messages before it are skipped); None when it stays open."""
    try:
        while True:
            output = await socket.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output.get("code")
    except TimeoutError:
        return None
