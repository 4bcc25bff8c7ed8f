"""The API tokens screen (/app/admin/tokens): create (the value shown once), list by prefix, revoke."""

from __future__ import annotations

import pytest

from threadline.tenancy.models import ApiToken
from threadline.testing import factories
from threadline.web.tests.admin_helpers import audited, members, signed_in

URL = "/app/admin/tokens"


def _raw(html: str) -> str:
    return html.split('id="new-token">')[1].split("<")[0]


def test_a_token_is_shown_once_then_only_its_prefix_and_works_until_revoked(client, admin):
    people = members(admin)
    signed_in(client, admin)
    answer = client.post(URL, {"name": "CRM sync", "agent": people["agent"].pk})
    assert answer.status_code == 201
    raw = _raw(answer.content.decode())
    token = ApiToken.objects.get(name="CRM sync")
    assert raw.startswith("tl_") and token.membership_id == people["agent"].pk and raw.startswith(token.prefix)
    listing = client.get(URL).content.decode()
    assert raw not in listing and f"{token.prefix}…" in listing and "CRM sync" in listing
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    listing = client.get(URL).content.decode()
    assert "never" not in listing.split(token.prefix)[1].split("</tr>")[0]  # last used is shown
    answer = client.post(f"{URL}/{token.pk}/revoke")
    assert answer.status_code == 302
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert [e.details["name"] for e in audited(admin.workspace_id, "token.created")] == ["CRM sync"]
    assert audited(admin.workspace_id, "token.revoked")[0].actor_membership_id == admin.pk


def test_a_token_for_an_agent_of_another_workspace_is_refused(client, admin):
    other = factories.make_workspace(name="Other Co")
    signed_in(client, admin)
    assert client.post(URL, {"name": "x", "agent": other.pk}).status_code == 404
    assert client.post(URL, {"name": "x", "agent": "abc"}).status_code == 400
    assert not ApiToken.objects.filter(name="x").exists()


def test_another_workspaces_token_answers_404_and_stays_active(client, admin):
    other = factories.make_workspace(name="Other Co")
    raw = factories.make_token(other)
    theirs = ApiToken.objects.get(membership=other)
    signed_in(client, admin)
    assert theirs.prefix not in client.get(URL).content.decode()
    assert client.post(f"{URL}/{theirs.pk}/revoke").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


@pytest.mark.parametrize("role", ["agent", "light"])
def test_agents_and_light_agents_are_refused(client, admin, role):
    people = members(admin)
    factories.make_token(admin)
    token = ApiToken.objects.get(membership=admin)
    signed_in(client, people[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"name": "mine"}).status_code == 403
    assert client.post(f"{URL}/{token.pk}/revoke").status_code == 403
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1
