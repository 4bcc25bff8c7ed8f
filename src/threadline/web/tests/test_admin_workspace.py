"""The Workspace screen (/app/admin/workspace), the workspace switcher, and the operator's screen that creates a
workspace with its first admin (/operator/workspaces)."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.tenancy.actions import do_add_agent, do_create_operator
from threadline.tenancy.models import Membership, Role, User, Workspace
from threadline.testing import factories
from threadline.web.tests.admin_helpers import audited, members, signed_in

URL = "/app/admin/workspace"
GOOD = {"name": "Acme Help", "languages": "he, en,cs", "default_language": "he", "time_zone": "Asia/Jerusalem",
        "default_region": "il", "countries": "IL cz", "reopen_window_days": "14"}


def test_an_admin_changes_the_workspace_settings(client, admin):
    signed_in(client, admin)
    page = client.get(URL)
    assert page.status_code == 200 and 'value="Acme Support"' in page.content.decode()
    assert '<option value="Asia/Jerusalem"' in page.content.decode()
    answer = client.post(URL, GOOD)
    assert answer.status_code == 302 and answer["Location"] == URL
    workspace = Workspace.objects.get(pk=admin.workspace_id)
    assert (workspace.name, workspace.languages, workspace.default_language, workspace.time_zone) == (
        "Acme Help", ["he", "en", "cs"], "he", "Asia/Jerusalem")
    assert (workspace.default_region, workspace.countries, workspace.reopen_window_days) == ("IL", ["CZ", "IL"], 14)
    entry, = audited(workspace.pk, "workspace.settings_changed")
    assert entry.details["after"]["name"] == "Acme Help" and entry.details["before"]["name"] == "Acme Support"
    assert entry.actor_membership_id == admin.pk
    assert "Workspace settings saved." in client.get(URL).content.decode()


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("time_zone", "Mars/Olympus", "Choose a time zone from the list."),
    ("default_language", "fr", "The default language must be one of the languages offered."),
    ("languages", "en, english!", "is not a language code"),
    ("default_region", "XX", "is not a two-letter country code"),
    ("countries", "IL, Narnia", "is not a two-letter country code"),
    ("reopen_window_days", "-3", "The reopen window is 0 to 365 days."),
    ("name", "  ", "A workspace needs a name"),
])
def test_invalid_settings_are_refused_with_the_reason_and_change_nothing(client, admin, field, value, reason):
    signed_in(client, admin)
    answer = client.post(URL, {**GOOD, field: value})
    assert answer.status_code == 400
    html = answer.content.decode()
    assert reason in html and 'role="alert"' in html
    assert Workspace.objects.get(pk=admin.workspace_id).name == "Acme Support"
    assert not audited(admin.workspace_id, "workspace.settings_changed")


@pytest.mark.parametrize("role", ["agent", "light"])
def test_agents_and_light_agents_are_refused(client, admin, role):
    person = members(admin)[role]
    signed_in(client, person)
    assert client.get(URL).status_code == 403
    assert client.post(URL, GOOD).status_code == 403
    assert Workspace.objects.get(pk=admin.workspace_id).name == "Acme Support"


def test_each_admin_changes_only_their_own_workspace(client, admin):
    other = factories.make_workspace(name="Other Co")
    signed_in(client, other)
    assert "Acme Support" not in client.get(URL).content.decode()
    client.post(URL, {**GOOD, "name": "Other Renamed"})
    assert Workspace.objects.get(pk=admin.workspace_id).name == "Acme Support"
    assert Workspace.objects.get(pk=other.workspace_id).name == "Other Renamed"


# ── the workspace switcher ───────────────────────────────────────────────────────────────────────────
def test_the_workspace_name_is_shown_and_a_member_of_two_switches_between_them(client, admin):
    html = signed_in(client, admin).get("/app/").content.decode()
    assert '<strong class="workspace-name"' in html and "Acme Support" in html
    assert 'action="/app/x/workspace"' not in html  # one workspace: nothing to switch to
    other = factories.make_workspace(name="Second Desk")
    with transaction.atomic():
        do_add_agent(other.workspace, admin.user.email, role=Role.ADMIN)
    html = client.get("/app/").content.decode()
    assert 'action="/app/x/workspace"' in html and "Second Desk" in html
    admin_html = client.get(URL).content.decode()
    assert 'action="/app/x/workspace"' in admin_html and f'<option value="{other.workspace_id}"' in admin_html
    answer = client.post("/app/x/workspace", {"workspace": other.workspace_id, "back": URL})
    assert answer.status_code == 302 and answer["Location"] == URL  # the same screen, in the other workspace
    assert 'value="Second Desk"' in client.get(URL).content.decode()
    assert User.objects.get(pk=admin.user_id).default_workspace_id == other.workspace_id


def test_switching_to_a_workspace_without_a_seat_is_refused(client, admin):
    stranger = factories.make_workspace(name="Not Mine")
    signed_in(client, admin)
    answer = client.post("/app/x/workspace", {"workspace": stranger.workspace_id, "back": URL})
    assert answer.status_code == 404
    assert 'value="Acme Support"' in client.get(URL).content.decode()


# ── the operator creates a workspace ─────────────────────────────────────────────────────────────────
OPERATOR_URL = "/operator/workspaces"


@pytest.fixture
def operator(db):
    with transaction.atomic():
        return do_create_operator("operator@example.com", "a-long-operator-passphrase-42")


def test_the_operator_creates_a_workspace_whose_first_admin_gets_a_setup_link(client, operator):
    client.force_login(operator)
    assert client.get(OPERATOR_URL).status_code == 200
    answer = client.post(OPERATOR_URL, {"name": "Globex Care", "default_region": "cz", "email": "boss@globex.example"})
    assert answer.status_code == 201
    workspace = Workspace.objects.get(name="Globex Care")
    assert workspace.default_region == "CZ"
    seat = Membership.objects.get(workspace=workspace)
    assert (seat.user.email, seat.role, seat.user.is_superuser) == ("boss@globex.example", Role.ADMIN, False)
    html = answer.content.decode()
    link = html.split('id="setup-link">')[1].split("<")[0]
    assert "/setup/" in link
    token = link.rstrip("/").rsplit("/", 1)[1]
    client.logout()
    assert client.get(f"/setup/{token}/").status_code == 200  # the link works for the new admin
    assert audited(workspace.pk, "workspace.created")[0].actor_user_id == operator.pk


def test_the_operators_form_refuses_bad_input_and_creates_nothing(client, operator):
    client.force_login(operator)
    before = Workspace.objects.count()
    answer = client.post(OPERATOR_URL, {"name": "Half Made", "default_region": "US", "email": "not-an-address"})
    assert answer.status_code == 400 and "Enter a valid email address." in answer.content.decode()
    answer = client.post(OPERATOR_URL, {"name": "Half Made", "default_region": "US", "email": operator.email})
    assert answer.status_code == 409
    assert Workspace.objects.count() == before


def test_workspace_admins_and_strangers_cannot_create_workspaces(client, admin):
    before = Workspace.objects.count()
    assert client.get(OPERATOR_URL)["Location"].startswith("/login")
    signed_in(client, admin)
    assert client.get(OPERATOR_URL).status_code == 403
    answer = client.post(OPERATOR_URL, {"name": "Sneaky", "default_region": "US", "email": "me@sneaky.example"})
    assert answer.status_code == 403
    assert Workspace.objects.count() == before
