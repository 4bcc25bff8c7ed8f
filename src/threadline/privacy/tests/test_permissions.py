"""Roles × routes for every endpoint of the audit log and the privacy operations (API and /app/), and the
two-workspace isolation of each: only a workspace's admins may use them, and only on their own workspace."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.audit.models import AuditEntry
from threadline.contacts.models import Contact
from threadline.privacy.actions import do_request_erasure, do_request_export
from threadline.privacy.tasks import export_contact_task
from threadline.testing import factories

ROLES = ["admin", "agent", "light_agent"]
JSON = "application/json"

# (method, path template, body); ids: {c} contact, {e} export, {r} erasure request. Order matters for the
# admin's pass: confirm comes before cancel.
API_ROUTES = [
    ("get", "/api/v1/audit", None),
    ("get", "/api/v1/audit/export", None),
    ("post", "/api/v1/contacts/{c}/export", None),
    ("get", "/api/v1/privacy/exports", None),
    ("get", "/api/v1/privacy/exports/{e}", None),
    ("get", "/api/v1/privacy/exports/{e}/download", None),
    ("post", "/api/v1/contacts/{c2}/erasure", {}),
    ("get", "/api/v1/privacy/erasures", None),
    ("get", "/api/v1/privacy/erasures/{r}", None),
    ("post", "/api/v1/privacy/erasures/{r}/confirm", None),
    ("post", "/api/v1/privacy/erasures/{r}/cancel", None),
    ("get", "/api/v1/privacy/settings", None),
    ("patch", "/api/v1/privacy/settings", {"erasure_grace_days": 3}),
    ("get", "/api/v1/privacy/retention", None),
    ("put", "/api/v1/privacy/retention", {"kind": "raw_payloads", "days": 30}),
    ("get", "/api/v1/privacy/retention/dry-run", None),
]
APP_ROUTES = [
    ("get", "/app/audit"),
    ("get", "/app/audit/export"),
    ("post", "/app/x/contacts/{c}/export"),
    ("get", "/app/x/exports/{e}/download"),
    ("post", "/app/x/contacts/{c2}/erasure"),
    ("post", "/app/x/erasures/{r}/confirm"),
    ("post", "/app/x/erasures/{r}/cancel"),
]
ID_ROUTES = [r for r in API_ROUTES if "{" in r[1]]


@pytest.fixture
def world(admin, run_jobs):
    with transaction.atomic():
        contact = Contact.objects.create(workspace=admin.workspace, name="Mia Matrix")
        other = Contact.objects.create(workspace=admin.workspace, name="Noa Matrix")
        export = do_request_export(admin, contact)
        erasure = do_request_erasure(admin, contact)
    export_contact_task(export.pk)
    return {"c": contact.pk, "c2": other.pk, "e": export.pk, "r": erasure.pk}


def call(client, method, path, body=None, **headers):
    if method in ("get",):
        return client.get(path, **headers)
    return getattr(client, method)(path, body if body is not None else {}, content_type=JSON, **headers)


@pytest.mark.parametrize("role", ROLES)
def test_api_roles_by_routes(client, admin, world, role):
    member = admin if role == "admin" else factories.make_agent(admin, f"{role}@example.com", role=role)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {factories.make_token(member)}"}
    for method, template, body in API_ROUTES:
        answer = call(client, method, template.format(**world), body, **auth)
        if role == "admin":
            assert answer.status_code in (200, 201, 202), (template, answer.status_code, answer.content)
        else:
            assert answer.status_code == 403, (role, template, answer.status_code)
            assert answer.json()["code"] == "permission_denied"


@pytest.mark.parametrize("role", ROLES)
def test_app_roles_by_routes(client, admin, world, role):
    member = admin if role == "admin" else factories.make_agent(admin, f"{role}@example.com", role=role)
    client.force_login(member.user)
    for method, template in APP_ROUTES:
        answer = call(client, method, template.format(**world), {}, HTTP_X_REQUESTED_WITH="fetch")
        if role == "admin":
            assert answer.status_code == 200, (template, answer.status_code, answer.content[:300])
        else:
            assert answer.status_code == 403, (role, template, answer.status_code)


def test_another_workspace_sees_and_touches_nothing(client, admin, world):
    other = factories.make_workspace("Elsewhere Ltd")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {factories.make_token(other)}"}
    for method, template, body in ID_ROUTES:
        answer = call(client, method, template.format(**world), body, **auth)
        assert answer.status_code == 404, (template, answer.status_code, answer.content)
    for path in ("/api/v1/privacy/exports", "/api/v1/privacy/erasures", "/api/v1/privacy/retention"):
        assert client.get(path, **auth).json() == [], path
    audit = {e["id"] for e in client.get("/api/v1/audit", **auth).json()["items"]}
    assert audit and not audit & set(AuditEntry.objects.filter(workspace_id=admin.workspace_id).values_list("pk", flat=True))
    client.force_login(other.user)
    for method, template in APP_ROUTES:
        if "{" in template:
            answer = call(client, method, template.format(**world), {}, HTTP_X_REQUESTED_WITH="fetch")
            assert answer.status_code == 404, (template, answer.status_code)
    assert Contact.objects.filter(pk=world["c"]).exists()
