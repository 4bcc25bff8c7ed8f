"""The administration frame (/app/admin/): the hub lists only sections the member's role grants and whose
screen exists; agents without an administration permission are refused; the workspace's name is on every
screen."""

from __future__ import annotations

from threadline.tenancy.models import Role
from threadline.testing import factories


def test_an_admin_sees_the_hub_with_only_existing_sections(client, admin):
    client.force_login(admin.user)
    page = client.get("/app/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert admin.workspace.name in html
    assert 'href="/app/audit"' in html  # an existing screen is listed
    assert 'href="/app/admin/nowhere"' not in html


def test_an_agent_without_administration_permissions_is_refused(client, admin):
    agent = factories.make_agent(admin, "agent@example.com", role=Role.AGENT)
    client.force_login(agent.user)
    assert client.get("/app/admin/").status_code == 403


def test_another_workspaces_admin_sees_their_own_name(client, admin):
    other = factories.make_workspace(name="Other Co")
    client.force_login(other.user)
    html = client.get("/app/admin/").content.decode()
    assert "Other Co" in html and admin.workspace.name not in html
