"""The integrations screens: /app/admin/apps (add, switch off, remove a customer panel app) and /app/admin/jira
(connect, the webhook secret shown once), admins only, one workspace's rows only."""

from __future__ import annotations

from threadline.core import crypto
from threadline.jira.models import JiraConnection
from threadline.panelapps.models import PanelApp
from threadline.testing import factories
from threadline.web.tests.admin_helpers import audited, members, signed_in

SHOP = {"kind": "shopify", "name": "Shop", "base_url": "https://acme.myshopify.com", "access_token": "shpat_1",
        "secret": "ignored-for-shopify-000000"}


def test_admin_adds_switches_and_removes_an_app(admin, client):
    web = signed_in(client, admin)
    assert web.post("/app/admin/apps", SHOP).status_code == 302
    app = PanelApp.objects.get()
    assert crypto.decrypt_json(app.secrets_encrypted) == {"access_token": "shpat_1"}  # only the kind's own
    page = web.get("/app/admin/apps").content.decode()
    assert "Shop" in page and "shpat_1" not in page
    missing = web.post("/app/admin/apps", {**SHOP, "access_token": ""})
    assert missing.status_code == 400 and PanelApp.objects.count() == 1
    web.post(f"/app/admin/apps/{app.pk}/toggle")
    app.refresh_from_db()
    assert app.is_active is False
    assert web.post(f"/app/admin/apps/{app.pk}/explode").status_code == 404
    web.post(f"/app/admin/apps/{app.pk}/delete")
    assert not PanelApp.objects.exists()
    assert [e.action for e in audited(admin.workspace_id, "panel_app.saved")] == ["panel_app.saved"] * 2


def test_jira_screen_shows_the_secret_once(admin, client):
    web = signed_in(client, admin)
    form = {"base_url": "https://acme.atlassian.net", "email": "bot@acme.test", "api_token": "tok",
            "project_key": "sup", "issue_type": "Task", "is_active": "on"}
    first = web.post("/app/admin/jira", form)
    secret = crypto.decrypt_json(JiraConnection.objects.get().secrets_encrypted)["webhook_secret"]
    assert first.status_code == 201 and secret in first.content.decode()
    assert f"/hooks/jira/{JiraConnection.objects.get().pk}/" in first.content.decode()
    again = web.post("/app/admin/jira", {**form, "api_token": ""})
    assert again.status_code == 200 and secret not in again.content.decode()
    assert secret not in web.get("/app/admin/jira").content.decode()
    assert JiraConnection.objects.get().project_key == "SUP"


def test_only_admins_and_only_their_workspace(admin, client):
    other = factories.make_workspace("Other Desk")
    signed_in(client, admin).post("/app/admin/apps", SHOP)
    app = PanelApp.objects.get()
    for role, member in members(admin).items():
        if role != "admin":
            assert signed_in(client, member).get("/app/admin/apps").status_code == 403
            assert signed_in(client, member).get("/app/admin/jira").status_code == 403
    stranger = signed_in(client, other)
    assert f'id="app-{app.pk}"' not in stranger.get("/app/admin/apps").content.decode()
    assert stranger.post(f"/app/admin/apps/{app.pk}/delete").status_code == 404
    assert PanelApp.objects.filter(pk=app.pk).exists()
