"""`threadline serve` with THREADLINE_WORKER_PROCESS=1: the worker in a process of its own (docs/adr/0006).

Real processes: the server and its worker child; an agent's socket on the web process receives the events the
worker publishes; the worker's counters show on the web process's /metrics; kill -9 of serve leaves no child;
a child killed alone is started again and its backlog processed exactly once. The cache relay is checked with
a real child process against this process's cache.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from threadline.core import relay
from threadline.testing.server import INBOUND_EVENT_STATES, ServerProcess, migrated_copy, process_env, sign

pytestmark = pytest.mark.slow

PASSWORD = "orchid-lantern-47-quietly"


@pytest.fixture
def server(request, tmp_path_factory, tmp_path):
    with migrated_copy(request.config, tmp_path_factory, tmp_path / "data") as url, ServerProcess(
        tmp_path / "data", database_url=url, THREADLINE_ADMIN_EMAIL="owner@example.com",
        THREADLINE_ADMIN_PASSWORD=PASSWORD, THREADLINE_WORKER_PROCESS="1",
    ) as proc:
        yield proc


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return found


def alive(pid: int) -> bool:
    """Running (an exited child not yet reaped by pid 1 is a zombie: not alive)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in {"Z", "X"}
    except FileNotFoundError:
        return False


def wait_for(predicate, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def post(server: ServerProcess, channel: dict, number: int, client: httpx.Client | None = None) -> int:
    body = json.dumps({"message_id": f"wp-{number}", "text": f"Where is my order {number}?",
                       "sender": {"kind": "email", "address": f"buyer{number % 5}@example.com", "verified": True}})
    headers = {"X-Threadline-Signature": sign(channel["secret"], body.encode()), "Content-Type": "application/json"}
    return (client or httpx).post(f"{server.url}/hooks/api/{channel['id']}/", content=body,
                                  headers=headers).status_code


def signed_in_cookies(server: ServerProcess) -> str:
    with httpx.Client(base_url=server.url) as browser:
        form = browser.get("/login")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        answer = browser.post("/login", data={"csrfmiddlewaretoken": token, "email": "owner@example.com",
                                              "password": PASSWORD, "next": "/app/"})
        assert answer.status_code == 302, answer.text[:500]
        return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def test_events_of_the_worker_process_reach_the_web_process_sockets_and_it_dies_with_serve(server):
    server.start()
    [child] = wait_for(lambda: children(server.process.pid), "the worker process started")
    assert "threadline.jobs.child" in Path(f"/proc/{child}/cmdline").read_text()
    channel = server.python_json_command("channel", "create-api", "--name", "Shop backend")
    cookies = signed_in_cookies(server)

    async def agent_sees_the_inbound_message() -> list[dict]:
        headers = {"Cookie": cookies, "Origin": server.url}
        async with connect(server.url.replace("http://", "ws://") + "/ws/agent/", additional_headers=headers) as ws:
            assert json.loads(await ws.recv())["type"] == "welcome"
            assert await asyncio.to_thread(post, server, channel, 1) == 202
            seen: list[dict] = []
            while not any(m.get("type") == "event" and "Where is my order 1?" in json.dumps(m) for m in seen):
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), 120)))
            return seen

    seen = asyncio.run(agent_sees_the_inbound_message())
    assert any(m["type"] == "event" and m["event"].startswith("message.") for m in seen), seen

    # the worker's counters, on the web process's /metrics (pushed by the child every second)
    def inbound_runs() -> list[str]:
        return [line for line in httpx.get(f"{server.url}/metrics").text.splitlines()
                if line.startswith("threadline_task_runs_total{") and 'outcome="done"' in line
                and "process_inbound_event_task" in line and line.endswith(" 1.0")]

    wait_for(inbound_runs, "the worker's metrics on /metrics", 30)

    assert server.kill() == -9
    wait_for(lambda: not alive(child), "the worker process died with serve", 30)


OUTCOME = """
import json
from django.db.models import Count
from threadline.channels.models import InboundEvent
from threadline.conversations.models import Message
print(json.dumps({
    "events": dict(InboundEvent.objects.values_list("state").annotate(n=Count("id")).order_by()),
    "per_id": dict(Message.objects.filter(direction="in").values_list("provider_message_id")
                   .annotate(n=Count("id")).order_by()),
}))
"""


def test_a_killed_worker_process_is_started_again_and_the_backlog_processed_once(server):
    server.start()
    [child] = wait_for(lambda: children(server.process.pid), "the worker process started")
    channel = server.python_json_command("channel", "create-api", "--name", "Shop backend")
    total = 120
    with httpx.Client(timeout=30) as client:
        statuses = [post(server, channel, n, client) for n in range(total // 2)]
        os.kill(child, signal.SIGKILL)  # mid-stream: the web process keeps acknowledging
        statuses += [post(server, channel, n, client) for n in range(total // 2, total)]
    assert statuses == [202] * total
    [again] = wait_for(lambda: [c for c in children(server.process.pid) if c != child and alive(c)],
                       "a new worker process")
    assert "exited with -9 while the server runs: starting another" in server.errors()

    wait_for(lambda: server.query(INBOUND_EVENT_STATES) == [("processed", total)], "every acknowledged message processed",
             240)  # polled straight from the database; then the outcome once, through the ORM
    result = json.loads(server.shell(OUTCOME).splitlines()[-1])
    assert result["events"] == {"processed": total}
    assert result["per_id"] == {f"wp-{n}": 1 for n in range(total)}
    assert server.stop() == 0
    assert not alive(again)


CHILD = """
import django
django.setup()
from django.core.cache import cache
from django.core.cache import caches
print(type(caches["default"]).__name__)
print(cache.get("tl:test:set-by-parent"))
print(sorted(cache.get_many(["tl:test:set-by-parent", "tl:test:missing"])))
cache.set("tl:test:set-by-child", {"from": "child"}, 60)
print(cache.incr("tl:test:counter", 5))
"""


def test_the_worker_process_cache_is_the_web_process_cache(tmp_path):
    """RelayCache in a real child: what this process stored it reads, what it stores this process reads."""
    from django.core.cache import caches

    here = caches["default"]
    here.set("tl:test:set-by-parent", "hello", 60)
    here.set("tl:test:counter", 2, 60)
    calls, calls_child = socket.socketpair()
    events, events_child = socket.socketpair()
    env = process_env(tmp_path, None, **{relay.FDS_VARIABLE: f"{calls_child.fileno()},{events_child.fileno()}"})
    env.pop("THREADLINE_REDIS_URL", None)  # without Redis: the case the relay is for
    server = threading.Thread(target=relay.serve_calls, args=(calls,), daemon=True)
    server.start()
    try:
        done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120,
                              pass_fds=(calls_child.fileno(), events_child.fileno()), check=False)
    finally:
        calls_child.close()
        events_child.close()
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[:4] == ["RelayCache", "hello", "['tl:test:set-by-parent']", "7"]
    assert here.get("tl:test:set-by-child") == {"from": "child"}
    server.join(10)
    calls.close()
    events.close()
