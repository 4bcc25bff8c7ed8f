"""The link between `threadline serve` and its worker process (THREADLINE_WORKER_PROCESS, ADR 0006).

Without Redis the channel layer and the cache are per process (channels' in-memory layer, LocMemCache): the
web process owns both, and its worker process reaches them through two Unix socket pairs made by the parent:

- `calls`: the child's cache operations, answered in order by a thread of the parent, which runs them on its
  own cache (`RelayCache`, the child's cache backend): presence set by agents' sockets in the web process is
  what routing in the worker sees; throttles, provider tokens and the help-center page cache are one cache.
- `events`, child → parent: group sends (`forward_group_send`: an event published by the worker reaches the
  sockets of the web process) and snapshots of the child's metrics (merged into the parent's `/metrics`);
  parent → child: "wake" after a request's commit enqueued jobs (the parent's `WAKE`).

Frames are a 4-byte length and a pickle: both ends are this program, over a socket pair no other process holds.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

logger = logging.getLogger(__name__)

# set by `serve` for its worker process only: "<calls fd>,<events fd>" (not a THREADLINE_* setting: nothing
# an operator sets, and the test harness's children do not inherit it)
FDS_VARIABLE = "TL_SERVE_RELAY_FDS"
_HEADER = struct.Struct("!I")


def send_frame(sock: socket.socket, payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(data)) + data)


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket) -> Any:
    """The next frame, or EOFError when the other end closed."""
    header = _read_exactly(sock, _HEADER.size)
    body = _read_exactly(sock, _HEADER.unpack(header)[0]) if header is not None else None
    if body is None:
        raise EOFError
    return pickle.loads(body)  # noqa: S301 - our own process at the other end of a private socket pair


# ── the child's side ─────────────────────────────────────────────────────────────────────────────────
class ChildLink:
    """The worker process's end: synchronous calls (one at a time) and fire-and-forget events."""

    def __init__(self, calls: socket.socket, events: socket.socket) -> None:
        self.calls, self.events = calls, events
        self.calls_lock, self.events_lock = threading.Lock(), threading.Lock()

    def call(self, *request: Any) -> Any:
        with self.calls_lock:
            send_frame(self.calls, request)
            ok, value = recv_frame(self.calls)
        if not ok:
            raise value
        return value

    def post(self, *event: Any) -> None:
        with self.events_lock:
            send_frame(self.events, event)

    def listen(self, on_wake: Callable[[], None], on_parent_gone: Callable[[], None]) -> None:
        """Run in a thread: the parent's wake-ups; its end closed (it died) calls `on_parent_gone`."""
        while True:
            try:
                message = recv_frame(self.events)
            except (EOFError, OSError):
                on_parent_gone()
                return
            if message and message[0] == "wake":
                on_wake()


_link: ChildLink | None = None


def child_link() -> ChildLink | None:
    """This process's link to its parent when it is the worker process of `serve`, else None."""
    global _link
    if _link is None and os.environ.get(FDS_VARIABLE):
        calls_fd, events_fd = (int(fd) for fd in os.environ[FDS_VARIABLE].split(","))
        _link = ChildLink(socket.socket(fileno=calls_fd), socket.socket(fileno=events_fd))
    return _link


def forward_group_send(group: str, message: dict[str, Any]) -> bool:
    """In the worker process, hand a group send to the web process; False elsewhere."""
    link = child_link()
    if link is None:
        return False
    try:
        link.post("group", group, message)
    except OSError as exc:  # the parent is going away; real-time delivery is best effort
        logger.warning("group send to %s not relayed: %s", group, exc)
    return True


class RelayCache(BaseCache):
    """The worker process's cache: every operation runs on the web process's cache (its LocMemCache)."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.alias = location or "default"

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        link = child_link()
        if link is None:
            raise RuntimeError("RelayCache is the cache of serve's worker process only")
        return link.call("cache", self.alias, method, args, kwargs)

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call("add", key, value, timeout, version=version)

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return self._call("get", key, default, version=version)

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._call("set", key, value, timeout, version=version)

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call("touch", key, timeout, version=version)

    def delete(self, key: str, version: int | None = None) -> bool:
        return self._call("delete", key, version=version)

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        return self._call("get_many", list(keys), version=version)

    def set_many(self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[str]:
        return self._call("set_many", data, timeout, version=version)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._call("delete_many", list(keys), version=version)

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._call("has_key", key, version=version)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        return self._call("incr", key, delta, version=version)

    def decr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        return self._call("decr", key, delta, version=version)

    def get_or_set(self, key: str, default: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> Any:
        if callable(default):  # computed here, set there only if still missing
            value = self.get(key, version=version)
            if value is not None:
                return value
            default = default()
        return self._call("get_or_set", key, default, timeout, version=version)

    def clear(self) -> None:
        self._call("clear")


CACHE_METHODS = frozenset({"add", "get", "set", "touch", "delete", "get_many", "set_many", "delete_many",
                           "has_key", "incr", "decr", "get_or_set", "clear"})


# ── the parent's side ────────────────────────────────────────────────────────────────────────────────
def serve_calls(sock: socket.socket) -> None:
    """Run in a thread of the web process: answer the child's cache calls until it closes its end."""
    from django.core.cache import caches

    while True:
        try:
            _kind, alias, method, args, kwargs = recv_frame(sock)
        except (EOFError, OSError):
            return
        try:
            if method not in CACHE_METHODS:
                raise ValueError(f"not a cache operation: {method}")
            reply: tuple[bool, Any] = (True, getattr(caches[alias], method)(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - raised again in the child, where the call was made
            reply = (False, exc)
        try:
            send_frame(sock, reply)
        except OSError:
            return


def serve_events(sock: socket.socket, *, on_group: Callable[[str, dict[str, Any]], None],
                 on_metrics: Callable[[Any], None]) -> None:
    """Run in a thread of the web process: the child's group sends and metrics, until it closes its end."""
    while True:
        try:
            message = recv_frame(sock)
        except (EOFError, OSError):
            return
        try:
            if message[0] == "group":
                on_group(message[1], message[2])
            elif message[0] == "metrics":
                on_metrics(message[1])
        except Exception:  # noqa: BLE001 - one bad event must not stop the relay
            logger.exception("relayed event failed")
