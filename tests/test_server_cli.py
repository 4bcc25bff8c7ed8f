"""The `threadline` command line as a real process: token create, doctor, migrate, worker --burst."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import httpx
import pytest

from threadline.testing.server import (
    ServerProcess,
    migrated_copy,
    sign,
    threadline_command,
    throwaway_database,
)

pytestmark = pytest.mark.slow

PASSWORD = "orchid-lantern-47-quietly"


@pytest.fixture
def cli(request, tmp_path_factory, tmp_path):
    with migrated_copy(request, tmp_path_factory, tmp_path / "data") as url, \
            ServerProcess(tmp_path / "data", database_url=url) as proc:
        yield proc


@pytest.fixture
def fresh(tmp_path):
    with throwaway_database() as url, ServerProcess(tmp_path / "fresh", database_url=url) as proc:
        yield proc


def test_token_create_prints_only_a_token_that_authenticates(cli):
    cli.start(THREADLINE_ADMIN_EMAIL="owner@example.com", THREADLINE_ADMIN_PASSWORD=PASSWORD)
    result = cli.run("token", "create", "--email", "owner@example.com", "--name", "ci")
    assert result.stdout.count("\n") == 1
    token = result.stdout.strip()
    me = httpx.get(f"{cli.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "owner@example.com"
    assert httpx.get(f"{cli.url}/api/v1/me", headers={"Authorization": "Bearer tl_wrong"}).status_code == 401
    unknown = cli.run("token", "create", "--email", "nobody@example.com", check=False)
    assert unknown.returncode != 0 and unknown.stdout == ""
    assert "No active agent nobody@example.com" in unknown.stderr
    assert cli.stop() == 0


def test_doctor_fails_on_a_database_without_the_migrations(fresh):
    before = fresh.run("doctor", check=False)
    assert before.returncode == 1 and "migrations" in before.stdout and "not applied" in before.stdout


def test_doctor_passes_on_a_migrated_setup_and_fails_on_an_unreachable_database(cli):
    # the session's migrated copy (`threadline migrate` made it): no second migration from scratch here, the
    # slowest single test of the suite when it had one (125 s of a loaded run)
    good = cli.run("doctor", check=False)
    assert good.returncode == 0, good.stdout
    assert "All 9 checks passed." in good.stdout
    for name in ("settings", "data directory", "database", "migrations", "job queue", "redis", "secret key",
                 "public URL", "search index"):
        assert name in good.stdout
    unreachable = cli.run("doctor", check=False, THREADLINE_DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    assert unreachable.returncode == 1
    assert "database        FAIL" in unreachable.stdout
    broken = cli.run("doctor", check=False, THREADLINE_DATABASE_URL="mysql://db/threadline")
    assert broken.returncode == 1 and "settings  FAIL" in broken.stdout
    bad_url = cli.run("doctor", check=False, THREADLINE_PUBLIC_URL="support.example.com")
    assert bad_url.returncode == 1 and "public URL      FAIL" in bad_url.stdout


def test_worker_burst_runs_what_the_web_node_queued(cli):
    cli.start(THREADLINE_EMBEDDED_WORKER="0", THREADLINE_ADMIN_EMAIL="owner@example.com",
              THREADLINE_ADMIN_PASSWORD=PASSWORD)
    channel = cli.python_json_command("channel", "create-api", "--name", "Shop")
    body = b'{"message_id": "m-1", "sender": {"kind": "email", "address": "dana@example.com"}, "text": "hi"}'
    answer = httpx.post(f"{cli.url}/hooks/api/{channel['id']}/", content=body,
                        headers={"X-Threadline-Signature": sign(channel["secret"], body),
                                 "Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text
    state = "SELECT state FROM tl_channels_inboundevent"  # the one event, straight from the database
    # web only: nothing processes it. On SQLite it waits in the intake file (ADR 0008), which the worker moves
    assert cli.query(state) == ([("received",)] if cli.database_url else [])
    burst = cli.run("worker", "--burst")
    assert "Ran " in burst.stdout
    assert cli.query(state) == [("processed",)]
    assert cli.stop() == 0


def test_worker_runs_until_sigterm_and_exits_zero(cli):
    log = cli.data_dir / "worker.err"
    with open(log, "wb") as err:
        worker = subprocess.Popen(threadline_command("worker", "--idle-sleep", "0.1"), env=cli.env,
                                  stdout=subprocess.DEVNULL, stderr=err, cwd=cli.data_dir)
    try:
        deadline = time.monotonic() + 60
        while "started" not in log.read_text() and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
        assert re.search(r"worker \S+ stopped", log.read_text())
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_commands_run_beside_a_server_print_links_on_its_port(cli):
    """`make run PORT=9000`, then `createadmin`, `channel create-api`, `doctor` in another terminal: every
    link they print is on the port the server listens on, not the default 8000 (no PUBLIC_URL configured)."""
    cli.start(THREADLINE_ADMIN_EMAIL="owner@example.com", THREADLINE_ADMIN_PASSWORD=PASSWORD)
    here = f"http://localhost:{cli.port}"
    admin = cli.run("createadmin", "--email", "second@example.com").stdout
    assert f"{here}/setup/" in admin, admin
    channel = cli.python_json_command("channel", "create-api", "--name", "Shop")
    assert channel["inbound_url"] == f"{here}/hooks/api/{channel['id']}/"
    telegram = cli.python_json_command("channel", "create", "telegram", CHANNEL_BOT_TOKEN="123456:ABC-DEF1234ghIkl")
    assert telegram["inbound_url"] == f"{here}/hooks/telegram/{telegram['id']}/" and telegram["secret_token"]
    doctor = cli.run("doctor", check=False).stdout
    assert f"public URL      ok      {here}" in doctor, doctor
    assert ":8000" not in admin + doctor
    configured = cli.run("doctor", check=False, THREADLINE_PUBLIC_URL="https://support.example.com").stdout
    assert "https://support.example.com" in configured  # a configured URL always wins
    assert cli.stop() == 0
