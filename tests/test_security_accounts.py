"""Issue 10, hole 7 (accounts and tokens): a person shared by workspaces is renamed only by themselves,
passwords are checked against the account's own email and name, API tokens are listed and revoked through the
API (own or, for admins, the workspace's, never another workspace's) and the CLI, and the data directory and
attachments are readable by the server's account only."""

from __future__ import annotations

import os
import stat

import pytest
from django.core.management import call_command
from django.db import transaction

from threadline.config import env
from threadline.conversations.attachments import do_store_attachment
from threadline.core.errors import ValidationFailed
from threadline.tenancy.actions import do_add_agent
from threadline.tenancy.models import ApiToken, Role
from threadline.testing import factories
from threadline.web.tests.helpers import customer_writes


@pytest.fixture
def other(db):
    return factories.make_workspace("Other Shop")


def call(client, token, method, path, **body):
    import json

    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(f"/api/v1{path}", **kwargs)


def test_a_person_of_two_workspaces_is_renamed_by_neither_workspace(client, admin, other):
    dana_a = factories.make_agent(admin, "dana@people.example", role=Role.ADMIN)
    with transaction.atomic():
        dana_b = do_add_agent(other.workspace, "dana@people.example", role=Role.AGENT, name="Mallory's label")
    assert dana_b.user_id == dana_a.user_id
    before = dana_a.user.name
    for owner, seat in ((other, dana_b), (admin, dana_a)):
        answer = call(client, factories.make_token(owner), "patch", f"/agents/{seat.pk}", name="Renamed")
        assert answer.status_code == 409, answer.content
        assert answer.json()["code"] == "shared_person"
    dana_a.user.refresh_from_db()
    assert dana_a.user.name == before  # adding her in B did not rename her either
    # role and seat stay each workspace's own business
    assert call(client, factories.make_token(other), "patch", f"/agents/{dana_b.pk}", role="light_agent").status_code == 200
    # the person may rename themselves; a person of one workspace only may be renamed by its admin
    assert call(client, factories.make_token(dana_a), "patch", f"/agents/{dana_a.pk}", name="Dana L.").status_code == 200
    solo = factories.make_agent(admin, "solo@people.example")
    assert call(client, factories.make_token(admin), "patch", f"/agents/{solo.pk}", name="Solo S.").status_code == 200


def test_passwords_are_checked_against_the_accounts_own_email_and_name(admin):
    with pytest.raises(ValidationFailed, match="too similar"), transaction.atomic():
        do_add_agent(admin.workspace, "dana.levi.support@shop.example", password="dana.levi.support")
    with pytest.raises(ValidationFailed, match="too similar"), transaction.atomic():
        do_add_agent(admin.workspace, "x@shop.example", name="Bartholomew Featherstonehaugh",
                     password="bartholomewfeatherstonehaugh")
    with transaction.atomic():
        do_add_agent(admin.workspace, "dana.levi.support@shop.example", password="orchid-lantern-47-quietly")


def test_tokens_are_listed_and_revoked_within_one_workspace(client, admin, other):
    agent = factories.make_agent(admin, "bob@acme.example")
    admin_token, agent_token, other_token = (factories.make_token(m) for m in (admin, agent, other))
    mine = call(client, agent_token, "get", "/tokens").json()["items"]
    assert [t["agent_id"] for t in mine] == [agent.pk]
    assert mine[0]["prefix"] == agent_token[:10] and agent_token not in str(mine)
    everyone = call(client, admin_token, "get", "/tokens").json()["items"]
    assert {t["agent_id"] for t in everyone} == {admin.pk, agent.pk}
    assert [t["agent_id"] for t in call(client, other_token, "get", "/tokens").json()["items"]] == [other.pk]
    admin_row = ApiToken.objects.get(membership=admin)
    agent_row = ApiToken.objects.get(membership=agent)
    assert call(client, other_token, "delete", f"/tokens/{agent_row.pk}").status_code == 404  # another workspace
    assert call(client, agent_token, "delete", f"/tokens/{admin_row.pk}").status_code == 404  # not their own
    assert call(client, admin_token, "delete", f"/tokens/{agent_row.pk}").status_code == 204
    assert call(client, agent_token, "get", "/tokens").status_code == 401  # revoked: it no longer signs in
    assert call(client, admin_token, "delete", f"/tokens/{agent_row.pk}").status_code == 204  # again: no change
    listed = call(client, admin_token, "get", "/tokens").json()["items"]
    assert next(t for t in listed if t["id"] == agent_row.pk)["revoked_at"] is not None


def test_tokens_are_listed_and_revoked_from_the_cli(admin, other, capsys):
    token = factories.make_token(admin)
    factories.make_token(other)
    call_command("token", "list", "--workspace", admin.workspace.slug)
    listed = capsys.readouterr().out
    assert token[:10] in listed and other.workspace.slug not in listed and token not in listed
    call_command("token", "revoke", token[:10])
    assert "revoked" in capsys.readouterr().out
    assert ApiToken.objects.get(membership=admin).revoked_at is not None
    call_command("token", "list", "--workspace", admin.workspace.slug)
    assert token[:10] not in capsys.readouterr().out


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_data_directory_and_attachments_are_private(tmp_path, monkeypatch, admin):
    monkeypatch.setenv("THREADLINE_DATA_DIR", str(tmp_path / "fresh" / "data"))
    data = env.data_dir()
    assert mode(data) == 0o700
    env.secret_key(data)
    assert mode(data / "secret_key") == 0o600
    message = customer_writes(factories.make_api_channel(admin), "see attached")
    with transaction.atomic():
        attachment = do_store_attachment(message, "a.txt", "text/plain", b"secret")
    assert mode(attachment.file.path) == 0o600
    assert mode(os.path.dirname(attachment.file.path)) == 0o700
