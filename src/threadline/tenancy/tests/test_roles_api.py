"""/api/v1/roles and PUT /api/v1/agents/{id}/role: custom roles as data, the built-in roles beside them, checks on
what may be granted, the last full admin kept, every change audited, and nothing crossing workspaces."""

from __future__ import annotations

import pytest
from django.test import Client

from threadline.audit.models import AuditEntry
from threadline.conversations.tests.builders import bearer, send_json
from threadline.events.models import OutboxEvent
from threadline.tenancy.models import CustomRole, Membership
from threadline.tenancy.permissions import ALL, Permission, holders, permissions_of
from threadline.testing.factories import make_agent, make_role_member, make_token, make_workspace

SUPPORT = [Permission.VIEW, Permission.NOTE, Permission.REPLY]


def create(api, name="Support lead", permissions=SUPPORT, **extra):
    return send_json(api, "post", "/api/v1/roles", {"name": name, "permissions": permissions, **extra})


def test_roles_list_the_built_in_roles_then_the_custom_ones_with_member_counts(api, admin):
    make_agent(admin, "lee@acme.example", role="light_agent")
    created = create(api, description="Leads the first line")
    assert created.status_code == 201, created.content
    role = created.json()
    assert (role["key"], role["name"], role["built_in"], role["member_count"]) == ("custom", "Support lead", False, 0)
    assert role["permissions"] == sorted(SUPPORT)
    listing = api.get("/api/v1/roles").json()
    assert [(r["key"], r["member_count"]) for r in listing] == [
        ("admin", 1), ("agent", 0), ("light_agent", 1), ("custom", 0)]
    assert listing[0]["permissions"] == sorted(ALL) and listing[0]["id"] is None
    assert listing[2]["permissions"] == sorted([Permission.VIEW, Permission.NOTE])
    codes = [p["code"] for p in api.get("/api/v1/roles/permissions").json()]
    assert set(codes) == ALL and Permission.ADMIN_PEOPLE in codes
    assert api.get(f"/api/v1/roles/{role['id']}").json() == role


def test_a_custom_role_grants_exactly_its_permissions_and_changes_take_effect_at_once(client, api, admin):
    role = create(api, permissions=[Permission.NOTE]).json()
    bob = make_agent(admin, "bob@acme.example")
    bob_token = bearer(make_token(bob))
    assigned = send_json(api, "put", f"/api/v1/agents/{bob.pk}/role", {"role_id": role["id"]})
    assert assigned.status_code == 200, assigned.content
    assert (assigned.json()["role"], assigned.json()["role_id"], assigned.json()["role_name"]) == (
        "custom", role["id"], "Support lead")
    me = client.get("/api/v1/me", **bob_token).json()
    assert (me["role"], me["role_id"], me["permissions"]) == ("custom", role["id"], [Permission.NOTE])
    assert client.get("/api/v1/conversations", **bob_token).status_code == 403  # no conversations.view
    changed = send_json(api, "patch", f"/api/v1/roles/{role['id']}", {"permissions": [Permission.NOTE, Permission.VIEW]})
    assert changed.json()["permissions"] == sorted([Permission.NOTE, Permission.VIEW])
    assert client.get("/api/v1/conversations", **bob_token).status_code == 200
    back = send_json(api, "put", f"/api/v1/agents/{bob.pk}/role", {"role": "agent"})
    assert (back.json()["role"], back.json()["role_id"]) == ("agent", None)
    bob.refresh_from_db()
    assert (bob.role, bob.custom_role_id) == ("agent", None)


@pytest.mark.parametrize(("document", "status", "code"), [
    ({"name": "", "permissions": []}, 400, "name_required"),
    ({"name": "   ", "permissions": []}, 400, "name_required"),
    ({"name": "X", "permissions": ["conversations.view", "root.everything"]}, 400, "unknown_permission"),
    ({"name": "Admin", "permissions": []}, 409, "role_exists"),
    ({"permissions": []}, 422, "invalid_request"),
])
def test_bad_roles_are_refused_and_nothing_is_stored(api, document, status, code):
    answer = send_json(api, "post", "/api/v1/roles", document)
    assert answer.status_code == status, answer.content
    if status != 422:
        assert answer.json()["code"] == code
    assert not CustomRole.objects.exists()


def test_a_taken_name_and_an_unknown_code_on_change_are_refused(api):
    create(api, name="Billing")
    role = create(api, name="Support").json()
    assert send_json(api, "patch", f"/api/v1/roles/{role['id']}", {"name": " billing "}).status_code == 409
    refused = send_json(api, "patch", f"/api/v1/roles/{role['id']}", {"permissions": ["nope"]})
    assert (refused.status_code, refused.json()["code"]) == (400, "unknown_permission")
    assert send_json(api, "patch", f"/api/v1/roles/{role['id']}", {"name": ""}).status_code == 400
    assert CustomRole.objects.get(pk=role["id"]).permissions == sorted(SUPPORT)


def test_a_role_in_use_cannot_be_deleted(api, admin):
    role = create(api).json()
    member = make_role_member(admin, "kim@acme.example", [], role_name="Support lead")
    refused = api.delete(f"/api/v1/roles/{role['id']}")
    assert (refused.status_code, refused.json()["code"]) == (409, "role_in_use")
    send_json(api, "put", f"/api/v1/agents/{member.pk}/role", {"role": "agent"})
    assert api.delete(f"/api/v1/roles/{role['id']}").status_code == 204
    assert api.get(f"/api/v1/roles/{role['id']}").status_code == 404


def test_every_change_is_audited_and_published(api, admin):
    role = create(api).json()
    send_json(api, "patch", f"/api/v1/roles/{role['id']}", {"permissions": [Permission.VIEW], "name": "Readers"})
    bob = make_agent(admin, "bob@acme.example")
    send_json(api, "put", f"/api/v1/agents/{bob.pk}/role", {"role_id": role["id"]})
    send_json(api, "put", f"/api/v1/agents/{bob.pk}/role", {"role": "agent"})
    api.delete(f"/api/v1/roles/{role['id']}")
    entries = list(AuditEntry.objects.filter(action__in=["role.created", "role.updated", "role.deleted",
                                                         "agent.updated"]).order_by("id"))
    assert [e.action for e in entries] == ["role.created", "role.updated", "agent.updated", "agent.updated",
                                           "role.deleted"]
    assert entries[1].details["removed"] == sorted([Permission.NOTE, Permission.REPLY])
    assert entries[2].details == {"role": "custom", "role_id": role["id"], "role_name": "Readers"}
    assert all(e.actor_membership_id == admin.pk for e in entries)
    types = list(OutboxEvent.objects.filter(type__startswith="role.").order_by("id").values_list("type", flat=True))
    assert types == ["role.changed", "role.changed", "role.deleted"]


def test_nobody_grants_more_than_their_own_role_holds(client, admin):
    manager = make_role_member(admin, "max@acme.example", [Permission.VIEW, Permission.NOTE, Permission.ADMIN_PEOPLE])
    headers = bearer(make_token(manager))
    bob = make_agent(admin, "bob@acme.example", role="light_agent")
    too_much = send_json(client, "post", "/api/v1/roles", {"name": "Auditors", "permissions": [Permission.AUDIT]},
                         **headers)
    assert (too_much.status_code, too_much.json()["code"]) == (403, "beyond_your_role")
    promote = send_json(client, "put", f"/api/v1/agents/{bob.pk}/role", {"role": "agent"}, **headers)
    assert (promote.status_code, promote.json()["code"]) == (403, "beyond_your_role")
    demote_admin = send_json(client, "patch", f"/api/v1/agents/{admin.pk}", {"is_active": False}, **headers)
    assert (demote_admin.status_code, demote_admin.json()["code"]) == (403, "beyond_your_role")
    fine = send_json(client, "post", "/api/v1/roles", {"name": "Readers", "permissions": [Permission.VIEW]}, **headers)
    assert fine.status_code == 201
    assert send_json(client, "put", f"/api/v1/agents/{bob.pk}/role", {"role_id": fine.json()["id"]},
                     **headers).status_code == 200
    bob.refresh_from_db()
    assert bob.custom_role_id == fine.json()["id"]
    admin.refresh_from_db()
    assert (admin.role, admin.is_active) == ("admin", True)


def test_the_workspace_keeps_a_member_holding_every_permission(api, admin):
    everything = create(api, name="Owners", permissions=sorted(ALL)).json()
    owner = make_agent(admin, "olga@acme.example", role="admin")
    assert send_json(api, "put", f"/api/v1/agents/{owner.pk}/role", {"role_id": everything["id"]}).status_code == 200
    assert holders(admin.workspace_id, *ALL).count() == 2
    # The built-in admin steps back: the custom role's holder now keeps the workspace administrable.
    owner_api, other = bearer(make_token(owner)), Client()
    assert send_json(other, "put", f"/api/v1/agents/{admin.pk}/role", {"role": "agent"},
                     **owner_api).status_code == 200
    narrowed = send_json(other, "patch", f"/api/v1/roles/{everything['id']}",
                         {"permissions": [Permission.VIEW]}, **owner_api)
    assert (narrowed.status_code, narrowed.json()["code"]) == (409, "last_admin")
    self_demote = send_json(other, "put", f"/api/v1/agents/{owner.pk}/role", {"role": "agent"},
                            **owner_api)
    assert (self_demote.status_code, self_demote.json()["code"]) == (409, "self_lockout")
    assert permissions_of(Membership.objects.get(pk=owner.pk)) == ALL


def test_agents_and_light_agents_may_read_roles_but_not_change_them(client, admin):
    role = CustomRole.objects.create(workspace=admin.workspace, name="Readers", permissions=[Permission.VIEW])
    for kind in ("agent", "light_agent"):
        headers = bearer(make_token(make_agent(admin, f"{kind}@acme.example", role=kind)))
        assert client.get("/api/v1/roles", **headers).status_code == 200
        refused = [
            send_json(client, "post", "/api/v1/roles", {"name": "Mine", "permissions": []}, **headers),
            send_json(client, "patch", f"/api/v1/roles/{role.pk}", {"name": "Mine"}, **headers),
            client.delete(f"/api/v1/roles/{role.pk}", **headers),
            send_json(client, "put", f"/api/v1/agents/{admin.pk}/role", {"role": "agent"}, **headers),
        ]
        assert [r.status_code for r in refused] == [403] * 4, kind
    assert CustomRole.objects.get(pk=role.pk).name == "Readers"


def test_another_workspaces_roles_are_not_found_and_never_change(client, api, admin):
    other_admin = make_workspace("Other Co")
    theirs = CustomRole.objects.create(workspace=other_admin.workspace, name="Theirs", permissions=[Permission.VIEW])
    their_member = make_role_member(other_admin, "zed@other.example", [], role_name="Theirs")
    bob = make_agent(admin, "bob@acme.example")
    answers = [
        api.get(f"/api/v1/roles/{theirs.pk}"),
        send_json(api, "patch", f"/api/v1/roles/{theirs.pk}", {"name": "Hacked", "permissions": sorted(ALL)}),
        api.delete(f"/api/v1/roles/{theirs.pk}"),
        send_json(api, "put", f"/api/v1/agents/{bob.pk}/role", {"role_id": theirs.pk}),
        send_json(api, "patch", f"/api/v1/agents/{bob.pk}", {"role_id": theirs.pk}),
        send_json(api, "put", f"/api/v1/agents/{their_member.pk}/role", {"role": "agent"}),
    ]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [
        (404, "role_not_found")] * 5 + [(404, "agent_not_found")]
    assert [r["name"] for r in api.get("/api/v1/roles").json()] == ["Admin", "Agent", "Light agent"]
    theirs.refresh_from_db()
    their_member.refresh_from_db()
    bob.refresh_from_db()
    assert (theirs.name, theirs.permissions, their_member.custom_role_id, bob.role) == (
        "Theirs", [Permission.VIEW], theirs.pk, "agent")


def test_people_are_picked_by_permission(admin):
    replier = make_role_member(admin, "rae@acme.example", [Permission.VIEW, Permission.REPLY], role_name="Repliers")
    reader = make_role_member(admin, "rea@acme.example", [Permission.VIEW], role_name="Readers")
    light = make_agent(admin, "lee@acme.example", role="light_agent")
    agent = make_agent(admin, "ann@acme.example")
    may_reply = set(holders(admin.workspace_id, Permission.REPLY).values_list("pk", flat=True))
    assert may_reply == {admin.pk, agent.pk, replier.pk}
    assert reader.pk not in may_reply and light.pk not in may_reply
    agent.is_active = False
    agent.save()
    assert agent.pk not in set(holders(admin.workspace_id, Permission.REPLY).values_list("pk", flat=True))
