"""Issue 9 item 5: the inbound size limit counts the bytes as they are read, on a real `threadline serve`.

A signed 5 MB body sent with `Transfer-Encoding: chunked` and no Content-Length used to be accepted (the
edge compared the limit with the Content-Length header); so did a body whose Content-Length lied. Every
edge now answers 413 with the JSON error and stores nothing, and the server keeps serving.
"""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from threadline.testing.server import ServerProcess, migrated_copy, sign

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("inbound-body-limit")]  # one worker: one server

LIMIT = 1024 * 1024  # THREADLINE["INBOUND_MAX_BYTES"]


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("limit") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, \
            ServerProcess(data_dir, database_url=url) as proc:
        proc.start()
        proc.channel = proc.python_json_command("channel", "create-api", "--name", "Shop")
        yield proc


def signed_document(secret: str, size: int) -> tuple[bytes, str]:
    padding = "x" * max(0, size - 160)
    body = json.dumps({"message_id": f"big-{size}", "text": "hello", "metadata": {"padding": padding},
                       "sender": {"kind": "email", "address": "dana@example.com"}}).encode()
    return body, sign(secret, body)


def exchange(port: int, head: str, chunks: list[bytes], *, chunked: bool = True) -> tuple[int, bytes]:
    """Send a request by hand (headers as given, the body as chunks) and read the answer, even when the
    server answers and closes before the body is all sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + b"\r\n")
        try:
            for chunk in chunks:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused and closed early: its answer is still there to read
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 4 + _length(answer):
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except ConnectionResetError:
            pass
    status = int(answer.split(b" ", 2)[1]) if answer else 0
    return status, answer.partition(b"\r\n\r\n")[2]


def _length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _sep, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def head(path: str, signature: str, *extra: str) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             f"X-Threadline-Signature: {signature}", *extra]
    return "\r\n".join(lines) + "\r\n"


def events(server: ServerProcess) -> int:
    """The events stored, once the worker has moved what the intake holds (ADR 0008: an acknowledgement of
    the worker process's default shape is committed to the intake file first)."""
    return server.python(
        "import time\n"
        "from threadline.channels import intake\n"
        "from threadline.channels.models import InboundEvent as E\n"
        "deadline = time.monotonic() + 30\n"
        "while intake.depth()[0] and time.monotonic() < deadline:\n"
        "    time.sleep(0.05)\n"
        "print(E.objects.count())")


def pieces(body: bytes, size: int = 64 * 1024) -> list[bytes]:
    return [body[i:i + size] for i in range(0, len(body), size)]


def test_a_signed_chunked_body_over_the_limit_is_refused_as_it_is_read(server):
    path = f"/hooks/api/{server.channel['id']}/"
    before = events(server)
    body, signature = signed_document(server.channel["secret"], 5 * 1024 * 1024)
    status, answer = exchange(server.port, head(path, signature, "Transfer-Encoding: chunked"), pieces(body))
    assert status == 413, answer
    assert json.loads(answer)["code"] == "payload_too_large"

    # A Content-Length that lies (small, beside a chunked body) changes nothing.
    status, answer = exchange(server.port, head(path, signature, "Content-Length: 100",
                                                "Transfer-Encoding: chunked"), pieces(body))
    assert status in (400, 413), answer  # refused, either as too large or as a malformed request
    # An honest Content-Length over the limit is refused before the body is read.
    status, answer = exchange(server.port, head(path, signature, f"Content-Length: {len(body)}"),
                              pieces(body), chunked=False)
    assert status == 413 and json.loads(answer)["code"] == "payload_too_large"
    assert events(server) == before

    # Just under the limit, chunked: accepted, stored once; the server is still serving.
    body, signature = signed_document(server.channel["secret"], LIMIT - 1024)
    status, answer = exchange(server.port, head(path, signature, "Transfer-Encoding: chunked"), pieces(body))
    assert status == 202, answer
    assert events(server) == before + 1
    assert httpx.get(f"{server.url}/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/hooks/voice/{id}/", "/widget/{id}/messages", "/api/v1/contacts", "/login"])
def test_every_other_edge_counts_the_bytes_too(server, path):
    """The synchronous edge (voice TwiML), the chat widget, the API and the sign-in form: a chunked body
    over the path's limit gets 413 JSON, whatever route or authentication would have said next."""
    target = path.format(id=server.channel["id"])
    limit = 100 * 1024 * 1024 if target.startswith("/widget/") else (
        LIMIT if target.startswith("/hooks/") else 30 * 1024 * 1024)
    chunk = b"a" * (256 * 1024)
    status, answer = exchange(server.port, head(target, "sha256=0", "Transfer-Encoding: chunked"),
                              [chunk] * (limit // len(chunk) + 2))
    assert status == 413, (target, answer[:300])
    assert json.loads(answer)["code"] == "payload_too_large"
