"""The small HTTP servers of the tests (fake providers, receivers, a customer's site, an identity provider) run
on a daemon thread that looks for `shutdown()` every 50 ms. The standard library's `serve_forever` looks every
0.5 s, and each stop waited up to that long: 254 teardowns of 0.40-0.56 s in a run (docs/performance.md).

Their handlers answer with TCP_NODELAY (`Handler`). http.server writes the headers and the body in two
sends; on a kept-alive connection (the outbound client keeps its connections, `core.http`) Nagle's algorithm
held the body until the client acknowledged the headers, and the client delays that acknowledgement by 40 ms:
every call to a fake provider took 40 ms more than its work (docs/performance.md)."""

from __future__ import annotations

import socketserver
import threading
from http.server import BaseHTTPRequestHandler

POLL_INTERVAL = 0.05


class Handler(BaseHTTPRequestHandler):
    """The base of the tests' request handlers: each small write goes out at once."""

    disable_nagle_algorithm = True


def serve_in_thread(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True)
    thread.start()
    return thread


def stop_serving(server: socketserver.BaseServer) -> None:
    """Stop the loop of `serve_in_thread` (within POLL_INTERVAL) and close the listening socket."""
    server.shutdown()
    server.server_close()
