"""`core.asgi_pool`: each HTTP request handled whole in one thread of the handler's pool, threads reused.

The views below are this module's own URLconf; they record the thread and the database connection each
request ran on, so the tests can see what the server's requests share.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.db import connection, connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from threadline.core.asgi_pool import THREAD_NAME, PooledASGIHandler

SEEN: list[dict[str, Any]] = []


def where() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    wrapper = connections["default"]  # this thread's (the `connection` proxy would look it up when used)
    return {"thread": threading.current_thread(), "connection": wrapper, "raw": wrapper.connection}


def plain(request: HttpRequest) -> HttpResponse:
    SEEN.append(where())
    return HttpResponse(f"plain {request.body.decode()}")


def streamed(request: HttpRequest) -> StreamingHttpResponse:
    def parts() -> Iterator[bytes]:
        for number in range(3):
            SEEN.append(where())  # each part is produced on the request's thread and connection
            yield f"part {number};".encode()

    return StreamingHttpResponse(parts(), content_type="text/plain")


def streamed_async(request: HttpRequest) -> StreamingHttpResponse:
    async def parts() -> Any:
        for number in range(2):
            yield f"async {number};".encode()

    return StreamingHttpResponse(parts(), content_type="text/plain")


def failing(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view failed")


urlpatterns = [path("plain/", csrf_exempt(plain)), path("streamed/", csrf_exempt(streamed)),
               path("streamed-async/", csrf_exempt(streamed_async)), path("failing/", csrf_exempt(failing))]


@pytest.fixture
def handler(settings: Any) -> Iterator[PooledASGIHandler]:
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["testserver"]
    SEEN.clear()
    one = PooledASGIHandler(threads=1)
    yield one
    one.pool.submit(lambda: connection.close()).result()  # the pool thread's, before the test database goes
    one.pool.shutdown()


def request(handler: PooledASGIHandler, url: str, body: bytes = b"") -> tuple[int, dict[bytes, bytes], bytes]:
    """One request through the ASGI interface: status, headers and the body's parts joined."""

    async def run() -> tuple[int, dict[bytes, bytes], bytes]:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": url, "raw_path": url.encode(), "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"testserver"), (b"content-length", str(len(body)).encode())],
                 "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
        app = ApplicationCommunicator(handler, scope)
        await app.send_input({"type": "http.request", "body": body})
        start = await app.receive_output(10)
        parts = []
        while True:
            message = await app.receive_output(10)
            parts.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await app.wait(10)
        return start["status"], dict(start["headers"]), b"".join(parts)

    return asyncio.run(run())


@pytest.mark.django_db
def test_requests_run_on_one_pool_thread_that_keeps_its_connection(handler: PooledASGIHandler) -> None:
    assert request(handler, "/plain/", b"one")[::2] == (200, b"plain one")
    assert request(handler, "/plain/", b"two")[::2] == (200, b"plain two")
    first, second = SEEN
    assert first["thread"] is second["thread"]
    assert first["thread"].name.startswith(THREAD_NAME)
    assert first["thread"] is not threading.current_thread()
    # the same Django connection object (core.prepared keeps its compiled queries per thread and connection)
    assert first["connection"] is second["connection"]
    assert first["connection"] is not connections["default"]  # the thread's own, not the test's


@pytest.mark.django_db
def test_a_closed_response_hands_the_threads_connection_back(handler: PooledASGIHandler,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # as serve sets it (close_connections_after_each_request); the dict is every thread's wrapper's
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    request(handler, "/plain/", b"x")
    assert SEEN[0]["raw"] is not None
    # request_finished ran on the request's own thread: its connection is closed (back to the pool or to
    # core.sqlite's idle connections), not left open until that thread's next request
    assert handler.pool.submit(lambda: connection.connection).result() is None


@pytest.mark.django_db
def test_a_streaming_response_is_produced_on_the_requests_thread(handler: PooledASGIHandler) -> None:
    status, headers, body = request(handler, "/streamed/")
    assert (status, body) == (200, b"part 0;part 1;part 2;")
    assert headers[b"Content-Type"] == b"text/plain"
    assert {id(seen["thread"]) for seen in SEEN} == {id(SEEN[0]["thread"])}
    assert SEEN[0]["thread"].name.startswith(THREAD_NAME)


@pytest.mark.django_db
def test_an_asynchronous_streaming_response_is_sent_from_the_loop(handler: PooledASGIHandler) -> None:
    assert request(handler, "/streamed-async/")[::2] == (200, b"async 0;async 1;")


@pytest.mark.django_db
def test_a_failing_view_is_a_500_and_the_thread_serves_the_next_request(handler: PooledASGIHandler,
                                                                       settings: Any) -> None:
    settings.DEBUG = False
    assert request(handler, "/failing/")[0] == 500
    assert request(handler, "/plain/", b"after")[::2] == (200, b"plain after")
