"""Sending to channel-layer groups from any thread of the process.

Domain events are published after commit in whatever thread wrote them: a request thread, or the job
worker's thread in embedded mode. Channels' in-memory layer is per process and bound to the event loop its
consumers run on (uvicorn's): a message put on its queues from another thread never wakes the consumer.
So the consumers remember their loop (`remember_loop`), and `send_to_group` hands the send to that loop
when it runs in this process. With the in-memory layer in a process where no socket ever connected (a
`threadline worker` beside an embedded server, a benchmark) there is nobody to send to, and nothing is sent,
except in the worker process of `serve` (THREADLINE_WORKER_PROCESS), which hands the send to the web
process, whose sockets it is for (`core.relay`). A networked layer (Redis, scaled mode) is sent to by the
process's sender loop (`realtime.sender`), in order, without waiting.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer

from threadline.core.relay import forward_group_send
from threadline.realtime.sender import sender_for

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None


def remember_loop() -> None:
    """Called by every consumer when it connects: the loop consumers of this process run on."""
    global _server_loop
    _server_loop = asyncio.get_running_loop()


def _log_failure(future: Future[Any]) -> None:
    exc = future.exception()
    if exc is not None:
        logger.warning("group send failed: %s", exc)


def send_to_group(group: str, message: dict[str, Any]) -> None:
    """Send `message` to `group` from synchronous code in any thread; never raises for delivery problems."""
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _server_loop
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:  # called from async code on a loop: schedule there
        running.create_task(layer.group_send(group, message))
        return
    if not isinstance(layer, InMemoryChannelLayer):
        sender_for(layer).submit(group, message)
        return
    if loop is not None and loop.is_running():
        asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).add_done_callback(_log_failure)
        return
    forward_group_send(group, message)  # serve's worker process: to the web process's layer; else nobody to tell


async def agroup_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(group, message)
