"""CRM sync against local servers answering HubSpot's and Salesforce's documented shapes: OAuth 2 (code, then
refresh), contacts matched by email/phone both ways, a solved conversation logged on the record, HubSpot's
signed webhook and Salesforce's polled changes, and the conflict rule."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from threadline.channels.fake_provider import FakeProvider
from threadline.conversations.tests.builders import bearer, inbound_conversation, send_json
from threadline.crm.models import CrmConnection, CrmLink, CrmSyncLog
from threadline.testing.factories import make_agent, make_api_channel, make_token, make_workspace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONTACT = json.loads((FIXTURES / "hubspot_contact.json").read_text())
SF = "/services/data/v60.0"


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def crm():
    fake = FakeProvider().start()
    yield fake
    fake.stop()


@pytest.fixture
def conversation(admin, client, run_jobs):
    return inbound_conversation(client, make_api_channel(admin), run_jobs, "m-1", "dana@example.com",
                                text="My order never came")


def connect(api, client, admin, crm, provider: str, token_answer: dict) -> CrmConnection:
    """Set up through the API, then the OAuth round trip through the admin screen's callback."""
    crm.route("POST", "/oauth/v1/token" if provider == "hubspot" else "/services/oauth2/token", 200, token_answer)
    body = {"client_id": "client-1", "client_secret": "secret-1", "auth_url": crm.url}
    if provider == "hubspot":
        body["api_url"] = crm.url
    configured = send_json(api, "put", f"/api/v1/crm/connections/{provider}", body)
    assert configured.status_code == 200, configured.content
    authorize = urlsplit(configured.json()["authorize_url"])
    assert authorize.path == ("/oauth/authorize" if provider == "hubspot" else "/services/oauth2/authorize")
    query = parse_qs(authorize.query)
    assert query["client_id"] == ["client-1"] and query["redirect_uri"] == [f"{settings.PUBLIC_URL}/app/admin/crm/callback"]
    client.force_login(admin.user)
    back = client.get("/app/admin/crm/callback", {"code": "code-1", "state": query["state"][0]})
    assert back.status_code == 302, back.content
    form = parse_qs(crm.calls("POST")[-1].body.decode())
    assert form["grant_type"] == ["authorization_code"] and form["code"] == ["code-1"]
    assert form["client_secret"] == ["secret-1"]
    return CrmConnection.objects.get(provider=provider)


def hubspot(api, client, admin, crm) -> CrmConnection:
    crm.route("GET", "/crm/v3/owners/2107", 200, fixture("hubspot_owner.json"))
    return connect(api, client, admin, crm, "hubspot", {"access_token": "at-1", "refresh_token": "rt-1",
                                                         "expires_in": 1800, "token_type": "bearer"})


def solve(api, conversation, run_jobs) -> None:
    response = send_json(api, "patch", f"/api/v1/conversations/{conversation.pk}", {"status": "solved"})
    assert response.status_code == 200, response.content
    run_jobs()


def test_a_solved_conversation_creates_the_hubspot_contact_and_logs_a_note(api, client, admin, crm, conversation,
                                                                             run_jobs):
    connection = hubspot(api, client, admin, crm)
    assert connection.is_active
    crm.route("POST", "/crm/v3/objects/contacts/search", 200, {"total": 0, "results": []})
    crm.route("POST", "/crm/v3/objects/contacts", 201, CONTACT)
    crm.route("POST", "/crm/v3/objects/notes", 201, {"id": "9001", "properties": {}})
    solve(api, conversation, run_jobs)
    [search] = crm.calls("POST", "/crm/v3/objects/contacts/search")
    assert search.headers["authorization"] == "Bearer at-1"
    assert search.json()["filterGroups"][0] == {"filters": [{"propertyName": "email", "operator": "EQ",
                                                             "value": "dana@example.com"}]}
    [created] = crm.calls("POST", "/crm/v3/objects/contacts")
    assert created.json()["properties"]["email"] == "dana@example.com"
    [note] = crm.calls("POST", "/crm/v3/objects/notes")
    assert note.json()["associations"][0]["to"] == {"id": "51"}
    assert note.json()["associations"][0]["types"][0]["associationTypeId"] == 202
    assert f"/app/c/{conversation.pk}/" in note.json()["properties"]["hs_note_body"]
    link = CrmLink.objects.get()
    assert (link.external_id, link.company, link.owner) == ("51", "Acme Garden Ltd", "Noa Levi")
    assert list(CrmSyncLog.objects.order_by("id").values_list("kind", flat=True)) == ["created", "activity"]
    page = client.get(f"/app/c/{conversation.pk}/").content.decode()
    assert "Acme Garden Ltd" in page and "owner Noa Levi" in page
    listed = api.get(f"/api/v1/crm/contacts/{conversation.contact_id}").json()
    assert [(row["provider"], row["external_id"]) for row in listed] == [("hubspot", "51")]


def test_an_expired_token_is_refreshed_once(api, client, admin, crm, conversation):
    hubspot(api, client, admin, crm)
    crm.route("POST", "/crm/v3/objects/contacts/search", 401, {"status": "error", "category": "EXPIRED_AUTHENTICATION"})
    crm.route("POST", "/crm/v3/objects/contacts/search", 200, {"results": [CONTACT]}, then=True)
    crm.route("POST", "/oauth/v1/token", 200, {"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 1800})
    synced = send_json(api, "post", f"/api/v1/crm/contacts/{conversation.contact_id}/sync", {})
    assert synced.status_code == 200, synced.content
    assert [row["external_id"] for row in synced.json()] == ["51"]
    refresh = parse_qs(crm.calls("POST", "/oauth/v1/token")[-1].body.decode())
    assert refresh["grant_type"] == ["refresh_token"] and refresh["refresh_token"] == ["rt-1"]
    assert crm.calls("POST", "/crm/v3/objects/contacts/search")[-1].headers["authorization"] == "Bearer at-2"


def signed_hubspot(connection: CrmConnection, body: bytes, *, age_ms: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time() * 1000) - age_ms)
    uri = f"{settings.PUBLIC_URL}/hooks/crm/{connection.pk}/"
    digest = hmac.new(b"secret-1", b"POST" + uri.encode() + body + timestamp.encode(), hashlib.sha256).digest()
    return {"HTTP_X_HUBSPOT_SIGNATURE_V3": base64.b64encode(digest).decode(),
            "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": timestamp}


def test_hubspot_webhook_applies_a_rename_and_a_conflict_keeps_the_newer(api, client, admin, crm, conversation,
                                                                       run_jobs):
    connection = hubspot(api, client, admin, crm)
    crm.route("POST", "/crm/v3/objects/contacts/search", 200, {"results": [CONTACT]})
    send_json(api, "post", f"/api/v1/crm/contacts/{conversation.contact_id}/sync", {})
    renamed = {**CONTACT, "properties": {**CONTACT["properties"], "firstname": "Danielle"},
               "updatedAt": "2030-01-01T00:00:00.000Z"}
    crm.route("GET", "/crm/v3/objects/contacts/51", 200, renamed)
    body = (FIXTURES / "hubspot_webhook.json").read_bytes()
    url = f"/hooks/crm/{connection.pk}/"
    assert client.post(url, body, content_type="application/json",
                       **signed_hubspot(connection, body, age_ms=6 * 60 * 1000)).status_code == 401
    assert client.post(url, body + b" ", content_type="application/json", **signed_hubspot(connection, body)).status_code == 401
    answer = client.post(url, body, content_type="application/json", **signed_hubspot(connection, body))
    assert (answer.status_code, answer.json()) == (200, {"contacts": 1})  # the deal event is not a contact's
    run_jobs()
    conversation.contact.refresh_from_db()
    assert conversation.contact.name == "Danielle Cohen"
    # both sides change the name: the CRM's change is newer (2031), so it is kept, and the log has both
    send_json(api, "patch", f"/api/v1/contacts/{conversation.contact_id}", {"name": "Dana C."})
    newer = {**CONTACT, "properties": {**CONTACT["properties"], "firstname": "Dani"}, "updatedAt": "2031-01-01T00:00:00.000Z"}
    crm.route("GET", "/crm/v3/objects/contacts/51", 200, newer)
    client.post(url, body, content_type="application/json", **signed_hubspot(connection, body))
    run_jobs()
    conflict = CrmSyncLog.objects.get(kind="conflict")
    assert (conflict.ours, conflict.theirs, conflict.kept) == ("Dana C.", "Dani Cohen", "theirs")
    # and an older change there loses to a newer one here
    send_json(api, "patch", f"/api/v1/contacts/{conversation.contact_id}", {"name": "Dana Cohen-Levi"})
    older = {**CONTACT, "properties": {**CONTACT["properties"], "firstname": "D."}, "updatedAt": "2020-01-01T00:00:00.000Z"}
    crm.route("GET", "/crm/v3/objects/contacts/51", 200, older)
    client.post(url, body, content_type="application/json", **signed_hubspot(connection, body))
    run_jobs()
    conversation.contact.refresh_from_db()
    assert conversation.contact.name == "Dana Cohen-Levi"
    assert CrmSyncLog.objects.filter(kind="conflict").order_by("-id").first().kept == "ours"


def test_salesforce_logs_a_task_and_polls_changes_back(api, client, admin, crm, conversation, run_jobs):
    token = {**fixture("salesforce_token.json"), "instance_url": crm.url}
    connection = connect(api, client, admin, crm, "salesforce", token)
    assert (connection.api_url, connection.account) == (crm.url, "00Dxx0000001gPLEAY")
    crm.route("GET", f"{SF}/query", 200, fixture("salesforce_query.json"))
    crm.route("POST", f"{SF}/sobjects/Task", 201, {"id": "00Txx000001", "success": True, "errors": []})
    solve(api, conversation, run_jobs)
    soql = crm.calls("GET", f"{SF}/query")[0].query["q"][0]
    assert "FROM Contact WHERE Email = 'dana@example.com'" in soql
    [task] = crm.calls("POST", f"{SF}/sobjects/Task")
    assert task.json()["WhoId"] == "003xx000004TmiQAAS" and task.json()["Status"] == "Completed"
    assert CrmLink.objects.get().owner == "Noa Levi"
    # a record changed there that matches another contact here by email: linked (matching both ways)
    other = inbound_conversation(client, make_api_channel(admin, secret="t" * 32), run_jobs, "m-2", "omer@example.com")
    changed = fixture("salesforce_query.json")
    changed["records"][0].update(Id="003xx000009", Email="omer@example.com", FirstName="Omer", LastName="Ben")
    crm.route("GET", f"{SF}/sobjects/Contact/updated/", 200, {"ids": ["003xx000009"],
                                                              "latestDateCovered": "2026-12-04T10:00:00.000+0000"})
    crm.route("GET", f"{SF}/query", 200, changed)
    CrmConnection.objects.filter(pk=connection.pk).update(polled_until=dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC))
    from threadline.crm.tasks import poll_crm_task

    assert poll_crm_task() == 1
    assert CrmLink.objects.get(external_id="003xx000009").contact_id == other.contact_id
    assert CrmConnection.objects.get().polled_until == dt.datetime(2026, 12, 4, 10, tzinfo=dt.UTC)


def test_oauth_state_of_another_admin_is_refused(api, client, admin, crm):
    configured = send_json(api, "put", "/api/v1/crm/connections/hubspot",
                           {"client_id": "c", "client_secret": "s", "auth_url": crm.url, "api_url": crm.url})
    state = parse_qs(urlsplit(configured.json()["authorize_url"]).query)["state"][0]
    other = make_workspace("Other Desk")
    client.force_login(other.user)
    refused = client.get("/app/admin/crm/callback", {"code": "x", "state": state})
    assert refused.status_code == 400 and not CrmConnection.objects.filter(is_active=True).exists()
    assert client.get("/app/admin/crm/callback", {"code": "x", "state": "forged"}).status_code == 400


def test_connections_are_admins_and_workspace_own(api, client, admin, crm, conversation):
    hubspot(api, client, admin, crm)
    other = bearer(make_token(make_workspace("Other Desk")))
    assert api.get("/api/v1/crm/connections", **other).json() == []
    assert api.get(f"/api/v1/crm/contacts/{conversation.contact_id}", **other).status_code == 404
    agent = bearer(make_token(make_agent(admin, "ann@example.com")))
    assert api.get("/api/v1/crm/connections", **agent).status_code == 403
    assert api.get("/api/v1/crm/log", **agent).status_code == 403
    assert api.get(f"/api/v1/crm/contacts/{conversation.contact_id}", **agent).status_code == 200
    assert api.delete("/api/v1/crm/connections/hubspot", **other).status_code == 404
    assert api.delete("/api/v1/crm/connections/hubspot").status_code == 204


def test_the_crms_rate_limit_and_errors_answer_clearly(api, client, admin, crm, conversation):
    hubspot(api, client, admin, crm)
    path = f"/api/v1/crm/contacts/{conversation.contact_id}/sync"
    crm.route("POST", "/crm/v3/objects/contacts/search", 429, {"status": "error", "policyName": "TEN_SECONDLY_ROLLING"},
              {"Retry-After": "7"})
    limited = send_json(api, "post", path, {})
    assert (limited.status_code, limited["Retry-After"]) == (429, "7")
    crm.route("POST", "/crm/v3/objects/contacts/search", 400, {"status": "error", "category": "VALIDATION_ERROR",
                                                               "message": "Invalid input JSON"})
    refused = send_json(api, "post", path, {})
    assert (refused.status_code, refused.json()["code"]) == (502, "crm_error")
    assert "VALIDATION_ERROR" in refused.json()["message"]
    crm.route("POST", "/crm/v3/objects/contacts/search", 401, {})
    crm.route("POST", "/oauth/v1/token", 400, {"status": "BAD_REFRESH_TOKEN", "message": "refresh token is invalid"})
    expired = send_json(api, "post", path, {})
    assert (expired.status_code, expired.json()["code"]) == (502, "crm_oauth_refused")
    assert "refresh token is invalid" in expired.json()["message"]
