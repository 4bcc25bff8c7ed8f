"""kill -9 the server and restart it: every acknowledged inbound message is processed exactly once.

1. A web-only server acknowledges messages and is killed before anything processes them; the restarted
   server (with its worker) processes each once.
2. The server is killed while its worker is working through a burst; the jobs it had claimed are
   recovered on restart (`recover_orphans`) and each message is still stored exactly once.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from threadline.testing.server import ServerProcess, migrated_copy, sign

pytestmark = pytest.mark.slow

PASSWORD = "orchid-lantern-47-quietly"
SENDERS = 12

OUTCOME = """
import json, time
from django.db.models import Count
from threadline.channels.models import InboundEvent
from threadline.contacts.models import Contact
from threadline.conversations.models import Message
from threadline.jobs.models import Job
deadline = time.monotonic() + {wait}
while {wait} and InboundEvent.objects.filter(state="received").exists() and time.monotonic() < deadline:
    time.sleep(0.2)
print(json.dumps({{
    "events": dict(InboundEvent.objects.values_list("state").annotate(n=Count("id")).order_by()),
    "per_id": dict(Message.objects.filter(direction="in").values_list("provider_message_id")
                   .annotate(n=Count("id")).order_by()),
    "contacts": Contact.objects.count(),
    "jobs": dict(Job.objects.filter(task__endswith="process_inbound_event_task").values_list("state")
                 .annotate(n=Count("id")).order_by()),
}}))
"""


@pytest.fixture
def server(request, tmp_path_factory, tmp_path):
    with migrated_copy(request.config, tmp_path_factory, tmp_path / "data") as url, ServerProcess(
        tmp_path / "data", database_url=url, THREADLINE_ADMIN_EMAIL="owner@example.com",
        THREADLINE_ADMIN_PASSWORD=PASSWORD,
    ) as proc:
        yield proc


def document(number: int) -> dict[str, object]:
    return {
        "message_id": f"crash-{number}",
        "sender": {"kind": "email", "address": f"customer{number % SENDERS}@example.com", "verified": True},
        "text": f"Message {number}: פריט {number} לא הגיע / objednávka {number} nedorazila",
    }


def post_all(server: ServerProcess, channel: dict[str, object], numbers: list[int]) -> list[int]:
    """POST each message once, signed, from 8 concurrent clients; returns the status codes."""
    url = f"{server.url}/hooks/api/{channel['id']}/"
    with httpx.Client(timeout=30) as client:
        def send(number: int) -> int:
            body = json.dumps(document(number), ensure_ascii=False).encode()
            headers = {"X-Threadline-Signature": sign(str(channel["secret"]), body),
                       "Content-Type": "application/json"}
            return client.post(url, content=body, headers=headers).status_code

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(send, numbers))


def outcome(server: ServerProcess, *, wait: float = 0) -> dict[str, dict[str, int] | int]:
    return json.loads(server.shell(OUTCOME.format(wait=wait), timeout=wait + 120).splitlines()[-1])


def tasks_done(server: ServerProcess) -> int:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("threadline_task_runs_total{") and "process_inbound_event_task" in line \
                and 'outcome="done"' in line:
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def assert_exactly_once(server: ServerProcess, numbers: range) -> None:
    result = outcome(server, wait=240)
    log = server.errors()[-3000:]
    assert result["per_id"] == {f"crash-{n}": 1 for n in numbers}, log
    assert result["events"] == {"processed": len(numbers)}, log
    assert result["jobs"] == {"done": len(numbers)}, log
    assert result["contacts"] == SENDERS


def test_acknowledged_messages_survive_a_kill_before_processing(server):
    server.start(THREADLINE_EMBEDDED_WORKER="0")
    channel = server.python_json_command("channel", "create-api", "--name", "Shop backend")
    numbers = list(range(50))
    statuses = post_all(server, channel, numbers + numbers[:10])  # ten sent twice
    assert statuses.count(202) == 50 and statuses.count(200) == 10, (statuses, server.errors()[-3000:])

    assert server.kill() == -9
    before = outcome(server)
    assert before["events"] == {"received": 50} and before["per_id"] == {}  # acknowledged, not processed

    server.start(THREADLINE_EMBEDDED_WORKER="1")
    assert_exactly_once(server, range(50))
    assert server.stop() == 0


def test_kill_while_the_worker_processes_a_burst_then_each_message_is_stored_once(server):
    server.start()
    channel = server.python_json_command("channel", "create-api", "--name", "Shop backend")
    total = 150
    statuses = post_all(server, channel, list(range(total)))
    assert statuses == [202] * total, (statuses, server.errors()[-3000:])
    deadline = time.monotonic() + 60
    while tasks_done(server) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.kill() == -9

    during = outcome(server)
    processed = during["events"].get("processed", 0)
    assert 0 < processed < total, during["events"]  # the kill did land in the middle of the burst

    server.start()
    orphans = during["jobs"].get("running", 0)
    if orphans:  # the job in the worker's hands at the kill is handed back at once, not after its lease
        assert f"Requeued {orphans} jobs left running by a stopped process." in server.output()
    assert_exactly_once(server, range(total))
    assert server.stop() == 0
