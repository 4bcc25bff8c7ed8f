"""`kill -9` a real `threadline import` process in the middle of the tickets, run the same command again:
the import finishes with nothing lost and nothing twice (every ticket, comment, attachment and rating of the
export, exact timestamps)."""

from __future__ import annotations

import signal
import time

import pytest

from threadline.migration.fixtures.generator import build
from threadline.migration.tests.helpers import serving
from threadline.testing.server import ServerProcess, migrated_copy

pytestmark = pytest.mark.slow

TICKETS, CUSTOMERS = 200, 40
CHECK = f"""
import json
from threadline.migration.fixtures.generator import build
from threadline.migration.tests.helpers import assert_complete
from threadline.tenancy.models import Workspace
assert_complete(Workspace.objects.get(slug="acme"), "zendesk", build({TICKETS}, customers={CUSTOMERS}))
print(json.dumps(True))
"""


def test_an_import_killed_mid_run_finishes_on_the_next_run_without_loss_or_duplicates(request, tmp_path_factory, tmp_path):
    export = build(TICKETS, customers=CUSTOMERS)
    with migrated_copy(request, tmp_path_factory, tmp_path / "data") as url, \
            ServerProcess(tmp_path / "data", database_url=url) as proc, serving("zendesk", export, page_size=20) as fake:
        proc.run("createadmin", "--email", "owner@acme.example", "--password", "orchid-lantern-47-quietly",
                 "--workspace", "acme")
        env = {"ZENDESK_API_TOKEN": fake.secret, "THREADLINE_OUTBOUND_ALLOW_PRIVATE": "1"}
        command = ("import", "zendesk", "--workspace", "acme", "--url", fake.url, "--user", fake.user,
                   "--page-size", "20", "--no-reindex")
        fake.delay = 0.01
        child = proc.spawn(*command, name="import", **env)
        deadline = time.monotonic() + 300
        while proc.query("SELECT COUNT(*) FROM conversations_conversation")[0][0] < 40:
            assert child.poll() is None and time.monotonic() < deadline, "the import ended before it was killed"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        killed_at = proc.query("SELECT COUNT(*) FROM conversations_conversation")[0][0]
        assert 40 <= killed_at < TICKETS and killed_at % 20 == 0  # whole pages only
        fake.delay = 0.0
        finished = proc.run(*command, **env)
        assert "imported ticket=" in finished.stdout
        assert proc.python(CHECK) is True
        states = dict(proc.query("SELECT state, COUNT(*) FROM migration_importrun GROUP BY state"))
    assert states == {"failed": 1, "finished": 1}  # the killed run was closed as interrupted by the next one
