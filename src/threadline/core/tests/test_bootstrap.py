"""First-run bootstrap and the one-time setup link, through `bootstrap.run()` and the /setup/ page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from threadline.core import bootstrap
from threadline.tenancy.models import Membership, Role, SetupLink, User, Workspace

PASSWORD = "orchid-lantern-47-quietly"


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    for name in ("ADMIN_EMAIL", "ADMIN_PASSWORD", "WORKSPACE_NAME"):
        monkeypatch.delenv(f"THREADLINE_{name}", raising=False)


def link_in(lines: list[str]) -> str:
    found = re.search(r"(http\S+/setup/[\w-]+/)", "\n".join(lines))
    assert found, lines
    return found.group(1)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_first_run_from_environment_creates_workspace_and_admin_once(db, monkeypatch):
    monkeypatch.setenv("THREADLINE_ADMIN_EMAIL", "Owner@Example.COM")
    monkeypatch.setenv("THREADLINE_ADMIN_PASSWORD", PASSWORD)
    monkeypatch.setenv("THREADLINE_WORKSPACE_NAME", "Acme Help")
    lines = bootstrap.run()
    assert lines == ["Created workspace 'Acme Help' with admin owner@example.com."]
    admin = Membership.objects.get()
    assert (admin.workspace.name, admin.role, admin.user.email) == ("Acme Help", Role.ADMIN, "owner@example.com")
    assert admin.user.check_password(PASSWORD) and not admin.user.is_staff and not admin.user.is_superuser
    assert bootstrap.run() == []
    assert (Workspace.objects.count(), User.objects.count(), Membership.objects.count()) == (1, 1, 1)


def test_without_password_the_admin_gets_a_setup_link_usable_once(client, db):
    lines = bootstrap.run()
    assert lines[0] == "Created workspace 'Threadline' with admin admin@localhost."
    url = link_in(lines)
    user = User.objects.get(email="admin@localhost")
    assert not user.has_usable_password()

    page = client.get(path_of(url))
    assert page.status_code == 200 and "admin@localhost" in page.content.decode()
    mismatch = client.post(path_of(url), {"password": PASSWORD, "confirm": PASSWORD + "x"})
    assert mismatch.status_code == 400
    common = client.post(path_of(url), {"password": "password123", "confirm": "password123"})
    assert common.status_code == 400
    done = client.post(path_of(url), {"password": PASSWORD, "confirm": PASSWORD})
    assert (done.status_code, done["Location"]) == (302, "/app/")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert client.get("/app/").status_code == 200  # signed in by the setup page
    assert client.get("/admin/").status_code == 302  # a workspace admin, not the operator
    client.logout()
    assert client.get(path_of(url)).status_code == 404
    again = client.post(path_of(url), {"password": "another-" + PASSWORD, "confirm": "another-" + PASSWORD})
    assert again.status_code == 404
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert bootstrap.run() == []  # a password is set: no new link


def test_expired_link_is_refused(client, db):
    url = link_in(bootstrap.run())
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(hours=25), tick=False):
        assert client.get(path_of(url)).status_code == 404
        refused = client.post(path_of(url), {"password": PASSWORD, "confirm": PASSWORD})
        assert refused.status_code == 404
    assert not User.objects.get().has_usable_password()


def test_unknown_link_is_refused(client, db):
    assert client.get("/setup/not-a-real-token/").status_code == 404


def test_restart_before_setup_issues_a_new_link_and_kills_the_old(client, db):
    first = link_in(bootstrap.run())
    second = link_in(bootstrap.run())
    assert first != second
    assert client.get(path_of(first)).status_code == 404
    assert client.get(path_of(second)).status_code == 200
    assert SetupLink.objects.count() == 2
    assert (Workspace.objects.count(), User.objects.count()) == (1, 1)
