"""`threadline serve` as a real process: embedded mode, first-run bootstrap, tokens, graceful shutdown."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sqlite3

import httpx
import pytest
from websockets.asyncio.client import connect

from threadline.testing.server import ServerProcess, migrated_copy, throwaway_database

pytestmark = pytest.mark.slow

SETUP_LINK = re.compile(r"(http://\S+/setup/[\w-]+/)")
PASSWORD = "orchid-lantern-47-quietly"


@pytest.fixture
def database_url(request, tmp_path_factory, tmp_path):
    """A migrated, empty database for the server in tmp_path/data (SQLite file or PostgreSQL database)."""
    with migrated_copy(request, tmp_path_factory, tmp_path / "data") as url:
        yield url


@pytest.fixture
def empty_database_url():
    with throwaway_database() as url:
        yield url


@pytest.fixture
def server(tmp_path, database_url):
    with ServerProcess(tmp_path / "data", database_url=database_url) as proc:
        yield proc


def setup_path(output: str) -> str:
    """The path of the setup link printed in `output` (the printed host is the PUBLIC_URL's)."""
    return "/setup/" + SETUP_LINK.search(output).group(1).split("/setup/", 1)[1]


def counts(server: ServerProcess) -> dict[str, int]:
    """Rows of the workspace, user and membership tables, read straight from the database (no shell child to
    start: ~1 s of CPU after each restart)."""
    [(workspaces, users, memberships)] = server.query(
        "SELECT (SELECT COUNT(*) FROM tenancy_workspace), (SELECT COUNT(*) FROM tenancy_user), "
        "(SELECT COUNT(*) FROM tenancy_membership)")
    return {"workspaces": workspaces, "users": users, "memberships": memberships}


def test_serve_runs_embedded_and_stops_cleanly_on_sigterm(tmp_path, empty_database_url):
    """A fresh install: the first start migrates an empty database and keeps a secret key."""
    database_url = empty_database_url
    with ServerProcess(tmp_path / "fresh", database_url=database_url) as server:
        server.start()  # migrating an empty database first: slow under load, waited for while it progresses
        assert f"ready at http://127.0.0.1:{server.port}/ (with worker and scheduler)" in server.output()
        assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200, ready.text
        metrics = httpx.get(f"{server.url}/metrics").text
        assert 'threadline_http_requests_total{method="GET",status="200"}' in metrics
        assert (server.data_dir / "secret_key").read_text().strip()
        if database_url is None:
            db = server.data_dir / "threadline.sqlite3"
            with sqlite3.connect(db) as conn:
                assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert server.stop(signal.SIGTERM) == 0
        assert "scheduler" in server.errors() and "released the lock" in server.errors()
        assert "worker" in server.errors() and "stopped" in server.errors()
        assert server.query("SELECT COUNT(*) FROM jobs_schedulerlock") == [(0,)]


def test_a_database_one_migration_behind_is_migrated_before_the_server_starts(server):
    """`serve` asks whether a migration is due without importing any, and only then runs `migrate` (in a
    process of its own, core/migrating.py)."""
    server.run("migrate", "analytics", "0007_occupancy", "--no-input")
    applied = "SELECT COUNT(*) FROM django_migrations WHERE app = 'analytics' AND name = '0008_stale_day'"
    assert server.query(applied) == [(0,)]
    server.start()
    assert server.query(applied) == [(1,)]
    assert httpx.get(f"{server.url}/readyz").status_code == 200


def test_sigint_also_exits_zero_and_restart_keeps_the_secret_key(server):
    server.start()
    key = (server.data_dir / "secret_key").read_text()
    assert server.stop(signal.SIGINT) == 0
    server.start()
    assert (server.data_dir / "secret_key").read_text() == key
    assert server.stop() == 0


def test_first_run_with_admin_password_creates_one_workspace_and_admin(server):
    server.start(THREADLINE_ADMIN_EMAIL="Owner@Example.com", THREADLINE_ADMIN_PASSWORD=PASSWORD,
                 THREADLINE_WORKSPACE_NAME="Acme Help")
    assert "Created workspace 'Acme Help' with admin owner@example.com." in server.output()
    assert "/setup/" not in server.output()
    token = server.run("token", "create", "--email", "owner@example.com").stdout.strip()
    me = httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "owner@example.com" and me.json()["role"] == "admin"
    assert server.stop() == 0

    server.start()  # restart: nothing new
    assert "Created workspace" not in server.output()
    assert counts(server) == {"workspaces": 1, "users": 1, "memberships": 1}
    with httpx.Client(base_url=server.url) as browser:
        assert admin_login(browser, "owner@example.com", PASSWORD)


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def sign_in(browser: httpx.Client, email: str, password: str, **headers: str) -> httpx.Response:
    """Sign in through the one sign-in page, as a browser does."""
    form = browser.get("/login", headers=headers)
    return browser.post("/login", headers=headers, data={
        "csrfmiddlewaretoken": csrf_of(form), "email": email, "password": password, "next": "/app/",
    })


def admin_login(browser: httpx.Client, email: str, password: str) -> bool:
    """True when the sign-in lets us into the workspace."""
    answer = sign_in(browser, email, password)
    return answer.status_code == 302 and answer.headers["location"] == "/app/" and \
        browser.get("/app/").status_code == 200


def test_first_run_without_password_prints_a_setup_link_that_works_once(server):
    server.start()
    output = server.output()
    assert "Created workspace 'Threadline' with admin admin@localhost." in output
    link = SETUP_LINK.search(output).group(1)
    assert link.startswith(f"http://localhost:{server.port}/setup/")
    link = link.replace("localhost", "127.0.0.1")
    with httpx.Client(base_url=server.url) as before:
        assert not admin_login(before, "admin@localhost", PASSWORD)
    with httpx.Client() as browser:
        page = browser.get(link)
        assert page.status_code == 200 and "admin@localhost" in page.text
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        short = browser.post(link, data={"csrfmiddlewaretoken": csrf, "password": "short", "confirm": "short"})
        assert short.status_code == 400  # refused, the link stays usable
        done = browser.post(link, data={"csrfmiddlewaretoken": csrf, "password": PASSWORD, "confirm": PASSWORD})
        assert done.status_code == 302 and done.headers["location"] == "/app/"
        assert browser.get(link).status_code == 404  # spent
    with httpx.Client(base_url=server.url) as other:  # someone else who saw the link
        csrf = csrf_of(other.get("/login"))
        again = other.post(link, data={"csrfmiddlewaretoken": csrf, "password": "x" + PASSWORD,
                                       "confirm": "x" + PASSWORD})
        assert again.status_code == 404
    with httpx.Client(base_url=server.url) as fresh:
        assert admin_login(fresh, "admin@localhost", PASSWORD)
    assert server.stop() == 0
    server.start()  # the admin has a password now: no new link, no second admin
    assert "/setup/" not in server.output()
    assert counts(server) == {"workspaces": 1, "users": 1, "memberships": 1}


def test_restart_before_the_link_is_used_prints_a_new_one_and_spends_the_old(server):
    server.start()
    first = setup_path(server.output())
    assert server.stop() == 0
    server.start()
    second = setup_path(server.output())
    assert second != first
    assert httpx.get(server.url + first).status_code == 404
    assert httpx.get(server.url + second).status_code == 200
    assert counts(server) == {"workspaces": 1, "users": 1, "memberships": 1}


def test_web_only_node_runs_no_worker(server):
    server.start(THREADLINE_EMBEDDED_WORKER="0")
    assert "(web only)" in server.output()
    assert "threadline.jobs.worker" not in server.errors()
    assert server.stop() == 0


CREATE_EMAIL_CHANNEL = """
import json
from django.db import transaction
from threadline.channels.actions import do_create_channel
from threadline.tenancy.models import Membership
with transaction.atomic():
    admin = Membership.objects.filter(role="admin").order_by("id").first()
    channel = do_create_channel(admin, "email", "Support", {"address": "support@example.com"})
print(json.dumps(channel.pk))
"""

STORED = "SELECT COUNT(*) FROM conversations_message WHERE direction = 'in'"
STORED_TEXTS = (
    "import json; from threadline.conversations.models import Message; "
    "print(json.dumps(list(Message.objects.filter(direction='in').values_list('text', flat=True))))"
)


def test_smtp_port_starts_the_email_listener_and_mail_becomes_a_conversation(tmp_path, database_url):
    import smtplib
    import time
    from email.message import EmailMessage

    from threadline.testing.server import free_port

    smtp_port = free_port()
    with ServerProcess(tmp_path / "data", database_url=database_url, args=("--smtp-port", str(smtp_port))) as server:
        server.start()
        assert "no email channel listens" not in server.output()
        server.python(CREATE_EMAIL_CHANNEL)
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "Jana Nováková <jana@example.cz>", "support@example.com", "Faktura"
        mail["Message-ID"] = "<serve-smtp-1@example.cz>"
        mail.set_content("Dobrý den, faktura nesedí.")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
            refused = smtp.send_message(mail)
        assert refused == {}
        deadline = time.monotonic() + 60
        while server.query(STORED) == [(0,)] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [text.strip() for text in server.python(STORED_TEXTS)] == ["Dobrý den, faktura nesedí."]
        assert server.stop() == 0


def test_demo_flag_loads_the_demo_once(tmp_path, database_url):
    with ServerProcess(tmp_path / "data", database_url=database_url, args=("--demo",)) as server:
        server.start(THREADLINE_ADMIN_PASSWORD=PASSWORD)
        assert "Loaded demo workspace 'Threadline demo: Northwind Gadgets' (demo) with 12 conversations." \
            in server.output()
        with httpx.Client(base_url=server.url, follow_redirects=True, timeout=60) as browser:  # first sign-in
            inbox = sign_in(browser, "admin@localhost", PASSWORD)
            [(demo,)] = server.query("SELECT id FROM tenancy_workspace WHERE slug = 'demo'")
            assert inbox.status_code == 200 and f'"workspace_id": {demo},' in inbox.text
            assert "Marcus Reed" in inbox.text  # a demo customer in the inbox
        assert server.stop() == 0
        server.start()
        assert "Demo workspace 'Threadline demo: Northwind Gadgets' is already loaded." in server.output()
        assert server.query(
            "SELECT COUNT(*) FROM conversations_conversation c JOIN tenancy_workspace w ON w.id = c.workspace_id "
            "WHERE w.slug = 'demo'") == [(12,)]
        assert server.stop() == 0


def test_x_forwarded_for_counts_only_from_the_trusted_proxies(server):
    """uvicorn trusts loopback's X-Forwarded-For by default; serve hands it THREADLINE_TRUSTED_PROXIES only."""
    server.start(THREADLINE_ADMIN_EMAIL="owner@example.com", THREADLINE_ADMIN_PASSWORD=PASSWORD)
    with httpx.Client(base_url=server.url) as guesser:
        for n in range(5):  # a made-up client address in every attempt, from a peer nobody trusts
            sign_in(guesser, "owner@example.com", "wrong-password-1234", **{"X-Forwarded-For": f"192.0.2.{n}"})
        refused = sign_in(guesser, "owner@example.com", PASSWORD, **{"X-Forwarded-For": "192.0.2.99"})
        assert refused.status_code == 429
    assert server.stop() == 0

    server.start(THREADLINE_TRUSTED_PROXIES="127.0.0.1/32")  # now we are the load balancer
    with httpx.Client(base_url=server.url) as attacker:
        for _ in range(5):
            sign_in(attacker, "owner@example.com", "wrong-password-1234", **{"X-Forwarded-For": "203.0.113.9"})
        assert sign_in(attacker, "owner@example.com", PASSWORD,
                       **{"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    with httpx.Client(base_url=server.url) as owner:  # the real user behind the same proxy
        assert admin_login(owner, "owner@example.com", PASSWORD)
    assert server.stop() == 0


WIDGET_SOCKET = """
import json
from threadline.channels.actions import do_create_channel
from threadline.channels.webchat import tokens
from threadline.channels.webchat.models import Visitor
from threadline.tenancy.models import Membership
channel = do_create_channel(Membership.objects.get(user__email="owner@example.com"), "webchat", "Site", {})
visitor = Visitor.objects.create(workspace_id=channel.workspace_id, channel=channel, visitor_id=tokens.new_visitor_id())
print(json.dumps(f"/ws/webchat/{channel.pk}/?token={tokens.issue(channel.pk, visitor.visitor_id)}"))
"""


def test_sockets_are_not_compressed_so_an_idle_one_holds_no_zlib_state(server):
    """Issue 11: a client offering permessage-deflate (as every browser does) gets a plain socket."""
    server.start(THREADLINE_ADMIN_EMAIL="owner@example.com", THREADLINE_ADMIN_PASSWORD=PASSWORD)
    path = server.python(WIDGET_SOCKET)

    async def handshake() -> tuple[dict, object]:
        async with connect(server.url.replace("http://", "ws://") + path, compression="deflate") as socket:
            assert "permessage-deflate" in socket.request.headers["Sec-WebSocket-Extensions"]
            return json.loads(await socket.recv()), socket.response.headers.get("Sec-WebSocket-Extensions")

    welcome, extensions = asyncio.run(handshake())
    assert welcome["type"] == "welcome"
    assert extensions is None
