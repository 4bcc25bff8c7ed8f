"""A fake provider API on loopback for tests and the benchmark: records calls, answers by route, serves media.

`FakeProvider().start()` listens on 127.0.0.1; `route(method, path, status, body, headers)` sets an answer
(a callable may compute it; a list of answers is consumed in order, the last one repeating). Unknown routes
answer 200 `{}`. Every request is kept in `requests` with its method, path, query, headers and raw body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from threadline.testing.serving import Handler as QuickHandler
from threadline.testing.serving import serve_in_thread, stop_serving

Answer = tuple[int, bytes, dict[str, str]]


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass
class FakeProvider:
    requests: list[Call] = field(default_factory=list)
    routes: dict[tuple[str, str], list[Answer | Callable[[Call], Answer]]] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, path: str, status: int = 200, body: bytes | dict | list = b"{}",
              headers: dict[str, str] | None = None, *, then: bool = False) -> FakeProvider:
        """Answer `method path` with this response (`then=True` queues it after the ones already set)."""
        raw = json.dumps(body).encode() if isinstance(body, dict | list) else body
        ctype = "application/json" if isinstance(body, dict | list) else "application/octet-stream"
        answer: Answer = (status, raw, {"Content-Type": ctype, **(headers or {})})
        key = (method.upper(), path)
        if then:
            self.routes.setdefault(key, []).append(answer)
        else:
            self.routes[key] = [answer]
        return self

    def handle(self, method: str, path: str, answer: Callable[[Call], Answer]) -> FakeProvider:
        self.routes[(method.upper(), path)] = [answer]
        return self

    def calls(self, method: str | None = None, path: str | None = None) -> list[Call]:
        return [c for c in self.requests if (method is None or c.method == method) and (path is None or c.path == path)]

    def _answer(self, call: Call) -> Answer:
        with self.lock:
            self.requests.append(call)
            queue = self.routes.get((call.method, call.path))
            if not queue:
                return 200, b"{}", {"Content-Type": "application/json"}
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(call) if callable(answer) else answer

    def start(self) -> FakeProvider:
        provider = self

        class Handler(QuickHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                call = Call(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                            {k.lower(): v for k, v in self.headers.items()}, body)
                status, raw, headers = provider._answer(call)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 - http.server's naming

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        serve_in_thread(self.server)
        return self

    def stop(self) -> None:
        if self.server is not None:
            stop_serving(self.server)
