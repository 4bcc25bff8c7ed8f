"""/app/admin/roles, driven through its POST forms: the built-in roles shown read-only, a custom role created,
changed (a checkbox per permission) and deleted, refusals re-rendered with their 4xx, every change audited, only
members who manage people let in, and another workspace's role ids answering 404 without changing anything.
Giving a custom role on /app/admin/people takes effect on the member's next request."""

from __future__ import annotations

from threadline.audit.models import AuditEntry
from threadline.tenancy.models import CustomRole, Membership
from threadline.tenancy.permissions import Permission, permissions_of
from threadline.testing import factories


def test_the_screen_lists_built_in_roles_read_only_and_custom_ones_with_member_counts(client, admin):
    factories.make_role_member(admin, "rae@example.com", [Permission.VIEW], role_name="Readers")
    client.force_login(admin.user)
    page = client.get("/app/admin/roles").content.decode()
    assert "Built-in roles" in page and "Light agent" in page
    assert "Readers" in page and "1 member" in page
    assert 'action="/app/admin/roles/' in page  # the custom role's form
    assert page.count('name="permissions" value="conversations.view"') == 2  # its form and the new-role form


def test_an_admin_creates_changes_and_deletes_a_role(client, admin):
    client.force_login(admin.user)
    created = client.post("/app/admin/roles", {"name": "Night shift", "description": "Reads and notes",
                                               "permissions": [Permission.VIEW, Permission.NOTE]})
    assert created.status_code == 302
    role = CustomRole.objects.get(workspace=admin.workspace, name="Night shift")
    assert (role.description, role.permissions) == ("Reads and notes", sorted([Permission.NOTE, Permission.VIEW]))
    assert "Role created." in client.get(created["Location"]).content.decode()

    changed = client.post(f"/app/admin/roles/{role.pk}", {"name": "Night shift", "description": "",
                                                          "permissions": [Permission.VIEW, Permission.REPLY]})
    assert changed.status_code == 302
    role.refresh_from_db()
    assert role.permissions == sorted([Permission.REPLY, Permission.VIEW])

    assert client.post(f"/app/admin/roles/{role.pk}/delete").status_code == 302
    assert not CustomRole.objects.filter(pk=role.pk).exists()
    actions = list(AuditEntry.objects.filter(workspace_id=admin.workspace_id, action__startswith="role.")
                   .order_by("id").values_list("action", "actor_membership_id"))
    assert actions == [("role.created", admin.pk), ("role.updated", admin.pk), ("role.deleted", admin.pk)]


def test_refusals_are_shown_with_their_status_and_change_nothing(client, admin):
    member = factories.make_role_member(admin, "rae@example.com", [Permission.VIEW], role_name="Readers")
    client.force_login(admin.user)
    empty = client.post("/app/admin/roles", {"name": "  ", "permissions": [Permission.VIEW]})
    assert empty.status_code == 400 and "A role needs a name." in empty.content.decode()
    unknown = client.post("/app/admin/roles", {"name": "X", "permissions": ["root.everything"]})
    assert unknown.status_code == 400 and "root.everything" in unknown.content.decode()
    in_use = client.post(f"/app/admin/roles/{member.custom_role_id}/delete")
    assert in_use.status_code == 409
    assert list(CustomRole.objects.values_list("name", flat=True)) == ["Readers"]


def test_only_members_who_manage_people_open_it(client, admin):
    for member in (factories.make_agent(admin, "ann@example.com"),
                   factories.make_agent(admin, "lee@example.com", role="light_agent"),
                   factories.make_role_member(admin, "rae@example.com", [Permission.VIEW, Permission.ADMIN_ROUTING])):
        client.force_login(member.user)
        assert client.get("/app/admin/roles").status_code == 403
        assert client.post("/app/admin/roles", {"name": "Mine", "permissions": []}).status_code == 403
    manager = factories.make_role_member(admin, "max@example.com", [Permission.VIEW, Permission.ADMIN_PEOPLE])
    client.force_login(manager.user)
    assert client.get("/app/admin/roles").status_code == 200
    beyond = client.post("/app/admin/roles", {"name": "Auditors", "permissions": [Permission.AUDIT]})
    assert beyond.status_code == 403
    assert not CustomRole.objects.filter(name="Auditors").exists()


def test_another_workspaces_roles_answer_404_and_never_change(client, admin):
    other = factories.make_workspace("Other Co")
    theirs = CustomRole.objects.create(workspace=other.workspace, name="Theirs", permissions=[Permission.VIEW])
    client.force_login(admin.user)
    assert client.post(f"/app/admin/roles/{theirs.pk}", {"name": "Mine", "permissions": []}).status_code == 404
    assert client.post(f"/app/admin/roles/{theirs.pk}/delete").status_code == 404
    assert "Theirs" not in client.get("/app/admin/roles").content.decode()
    theirs.refresh_from_db()
    assert (theirs.name, theirs.permissions) == ("Theirs", [Permission.VIEW])


def test_a_custom_role_given_on_the_people_screen_takes_effect(client, admin):
    role = CustomRole.objects.create(workspace=admin.workspace, name="Readers", permissions=[Permission.VIEW])
    agent = factories.make_agent(admin, "ann@example.com")
    client.force_login(admin.user)
    page = client.get(f"/app/admin/people/{agent.pk}").content.decode()
    assert f'value="custom:{role.pk}"' in page
    saved = client.post(f"/app/admin/people/{agent.pk}/update", {"role": f"custom:{role.pk}"})
    assert saved.status_code == 302
    agent = Membership.objects.get(pk=agent.pk)
    assert (agent.role, agent.custom_role_id, permissions_of(agent)) == ("custom", role.pk, {Permission.VIEW})
    client.force_login(agent.user)
    assert client.post("/app/admin/roles", {"name": "Mine", "permissions": []}).status_code == 403
    assert client.get("/app/search?q=x").status_code == 200


def test_a_role_that_administers_without_seeing_conversations_starts_in_the_administration(client, admin):
    routing = factories.make_role_member(admin, "rou@example.com", [Permission.ADMIN_ROUTING])
    client.force_login(routing.user)
    answer = client.get("/app/")
    assert (answer.status_code, answer["Location"]) == (302, "/app/admin/")
    assert client.get("/app/admin/").status_code == 200
    assert client.get("/app/search?q=carol").status_code == 403
    reader = factories.make_role_member(admin, "rea@example.com", [Permission.VIEW])
    client.force_login(reader.user)
    assert client.get("/app/").status_code == 200
