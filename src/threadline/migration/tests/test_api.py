"""/api/v1/imports: a workspace's admins read its imports and what they skipped; nobody else does."""

from __future__ import annotations

from threadline.migration.fixtures.generator import build
from threadline.migration.tests.helpers import run, serving
from threadline.testing import factories

EXPORT = build(10, customers=5)


def test_admins_read_their_imports_and_the_skipped_records_never_another_workspaces(admin, client):
    other = factories.make_workspace("Other Support")
    with serving("zendesk", EXPORT) as fake:
        mine = run(admin.workspace, fake)
        theirs = run(other.workspace, fake)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {factories.make_token(admin)}"}
    listed = client.get("/api/v1/imports", **headers).json()
    assert [r["id"] for r in listed["items"]] == [mine.run_id]
    one = client.get(f"/api/v1/imports/{mine.run_id}", **headers).json()
    assert one["state"] == "finished" and one["counts"]["tickets"]["imported_ticket"] == 10
    skipped = client.get(f"/api/v1/imports/{mine.run_id}/skipped", {"kind": "rating"}, **headers).json()
    assert [(s["code"], s["external_id"]) for s in skipped["items"]] == [("not_answered", "999999")]
    for path in (f"/api/v1/imports/{theirs.run_id}", f"/api/v1/imports/{theirs.run_id}/skipped"):
        answer = client.get(path, **headers)
        assert answer.status_code == 404 and answer.json()["code"] == "import_not_found"
    agent = factories.make_agent(admin, "agent@acme.example")
    answer = client.get("/api/v1/imports", HTTP_AUTHORIZATION=f"Bearer {factories.make_token(agent)}")
    assert answer.status_code == 403
