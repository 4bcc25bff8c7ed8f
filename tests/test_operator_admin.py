"""The Django admin is the installation operator's tool: a workspace admin (however created) is never a Django
superuser or staff member, and gets nothing from `/admin/`, least of all another workspace's data."""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.contrib import admin as django_admin
from django.core.management import CommandError, call_command
from django.db import transaction

from threadline.core import bootstrap
from threadline.core.errors import Conflict
from threadline.tenancy.actions import do_add_agent
from threadline.tenancy.models import Membership, Role, User
from threadline.testing import factories

PASSWORD = "orchid-lantern-47-quietly"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def sign_in(client, email: str, password: str = PASSWORD, next_url: str = "/admin/"):
    return client.post("/login", {"email": email, "password": password, "next": next_url})


def admin_urls() -> list[str]:
    """Every page of the Django admin: the index, each app, each model's list and add pages."""
    urls = ["/admin/"]
    for model in django_admin.site._registry:
        meta = model._meta
        urls += [f"/admin/{meta.app_label}/", f"/admin/{meta.app_label}/{meta.model_name}/",
                 f"/admin/{meta.app_label}/{meta.model_name}/add/"]
    return sorted(set(urls))


@pytest.fixture
def two_workspaces(db):
    """Workspace A with its admin, and workspace B whose admin came from `threadline createadmin`."""
    a = factories.make_workspace("Alpha Co")
    run("createadmin", "--email", "boss@beta.example", "--password", PASSWORD, "--workspace", "Beta Co")
    b = Membership.objects.get(user__email="boss@beta.example")
    return a, b


def test_createadmin_makes_a_workspace_admin_not_a_django_superuser(two_workspaces):
    _a, b = two_workspaces
    assert b.role == Role.ADMIN
    assert not b.user.is_superuser and not b.user.is_staff


def test_first_run_admin_is_a_workspace_admin_only(db, monkeypatch):
    monkeypatch.setenv("THREADLINE_ADMIN_PASSWORD", PASSWORD)
    bootstrap.run()
    user = User.objects.get(email="admin@localhost")
    assert not user.is_superuser and not user.is_staff


def test_a_workspace_admin_gets_nothing_from_the_django_admin(client, two_workspaces):
    a, b = two_workspaces
    assert sign_in(client, b.user.email, next_url="/app/").status_code == 302
    assert client.get("/app/").status_code == 200  # B's admin is signed in to their workspace
    a_rows = [f"/admin/tenancy/workspace/{a.workspace_id}/change/", f"/admin/tenancy/membership/{a.pk}/change/",
              f"/admin/tenancy/user/{a.user_id}/change/", f"/admin/tenancy/user/{a.user_id}/password/",
              f"/admin/tenancy/workspace/{a.workspace_id}/delete/"]
    for url in admin_urls() + a_rows:
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        assert b"Alpha Co" not in response.content and a.user.email.encode() not in response.content, url
    # the attack of the report: make oneself admin of workspace A through the admin's add form
    client.post("/admin/tenancy/membership/add/", {"workspace": a.workspace_id, "user": b.user_id,
                                                   "role": "admin", "is_active": "on"})
    client.post(f"/admin/tenancy/user/{b.user_id}/change/", {"email": b.user.email, "is_superuser": "on",
                                                              "is_staff": "on", "is_active": "on"})
    assert not Membership.objects.filter(workspace=a.workspace, user=b.user).exists()
    b.user.refresh_from_db()
    assert not b.user.is_superuser and not b.user.is_staff


def test_the_operator_uses_the_django_admin_through_the_one_sign_in(client, db):
    output = run("createsuperuser", "--email", "Ops@Example.net", "--password", PASSWORD)
    assert "ops@example.net" in output
    operator = User.objects.get(email="ops@example.net")
    assert operator.is_superuser and operator.is_staff and not operator.memberships.exists()
    login_page = client.get("/admin/login/?next=/admin/")
    assert login_page.status_code == 302 and login_page["Location"].startswith("/login?next=/admin/")
    signed = sign_in(client, "ops@example.net")
    assert signed.status_code == 302 and signed["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/tenancy/workspace/").status_code == 200
    assert client.get("/app/").status_code == 302  # the operator is nobody's agent


def test_operator_and_agents_never_share_an_account(db):
    admin = factories.make_workspace()
    with pytest.raises(CommandError, match="agent"):
        run("createsuperuser", "--email", admin.user.email, "--password", PASSWORD)
    run("createsuperuser", "--email", "ops@example.net", "--password", PASSWORD)
    with pytest.raises(Conflict), transaction.atomic():
        do_add_agent(admin.workspace, "ops@example.net", role=Role.ADMIN)
    assert not Membership.objects.filter(user__email="ops@example.net").exists()


def test_the_data_migration_demotes_workspace_admins_made_superusers(db):
    admin = factories.make_workspace()
    User.objects.filter(pk=admin.user_id).update(is_superuser=True, is_staff=True)  # what createadmin used to do
    run("createsuperuser", "--email", "ops@example.net", "--password", PASSWORD)
    migration = importlib.import_module("threadline.tenancy.migrations.0002_workspace_admins_are_not_superusers")
    migration.demote_workspace_admins(django_apps, None)
    admin.user.refresh_from_db()
    assert not admin.user.is_superuser and not admin.user.is_staff
    assert User.objects.get(email="ops@example.net").is_superuser  # the operator keeps the admin


def test_the_operator_turns_on_two_factor_sign_in_from_the_command_line(client, db):
    import re

    import pyotp

    started = run("createsuperuser", "--email", "ops@example.net", "--password", PASSWORD, "--totp")
    secret = re.search(r"Authenticator secret: (\w+)", started).group(1)
    assert "otpauth://totp/" in started
    assert sign_in(client, "ops@example.net")["Location"] == "/admin/"  # not confirmed yet: password only
    client.logout()
    with pytest.raises(CommandError):
        run("createsuperuser", "--email", "ops@example.net", "--totp-code", "000000")
    assert "Two-factor sign-in is on." in run("createsuperuser", "--email", "ops@example.net",
                                                "--totp-code", pyotp.TOTP(secret).now())
    assert sign_in(client, "ops@example.net")["Location"].startswith("/login/verify")
    assert client.get("/admin/").status_code == 302
