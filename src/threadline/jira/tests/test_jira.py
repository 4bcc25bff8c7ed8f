"""The Jira link against a local server answering Jira Cloud's documented REST shapes, and Jira's signed
webhook replayed from a fixture shaped as Atlassian documents `jira:issue_updated`."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from threadline.channels.fake_provider import FakeProvider
from threadline.conversations.models import AuthorKind, Message
from threadline.conversations.tests.builders import bearer, inbound_conversation, send_json
from threadline.core import crypto
from threadline.jira.models import IssueLink, JiraConnection
from threadline.testing.factories import make_agent, make_api_channel, make_token, make_workspace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ISSUE = json.loads((FIXTURES / "issue.json").read_text())
UPDATED = json.loads((FIXTURES / "issue_updated.json").read_text())


@pytest.fixture
def jira():
    fake = FakeProvider().start()
    fake.route("POST", "/rest/api/3/issue", 201, {"id": "10001", "key": "SUP-1",
                                                   "self": "https://acme.atlassian.net/rest/api/3/issue/10001"})
    fake.route("GET", "/rest/api/3/issue/SUP-1", 200, ISSUE)
    fake.route("POST", "/rest/api/3/issue/SUP-1/remotelink", 201, {"id": 10000, "self": "https://x/remotelink/1"})
    yield fake
    fake.stop()


def connect(api, jira, **extra) -> dict:
    document = {"base_url": jira.url, "email": "bot@acme.test", "project_key": "sup", "api_token": "tok-123",
                **extra}
    response = send_json(api, "put", "/api/v1/jira/connection", document)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def conversation(admin, client, run_jobs):
    return inbound_conversation(client, make_api_channel(admin), run_jobs, "m-1", "dana@example.com",
                                text="My refund for order 1234 is stuck")


def notes(conversation) -> list[str]:
    return list(Message.objects.filter(conversation=conversation, is_note=True, author_kind=AuthorKind.SYSTEM)
                .order_by("id").values_list("text", flat=True))


def signed(secret: str, document: dict) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(document).encode()
    return body, {"HTTP_X_HUB_SIGNATURE": "sha256=" + crypto.hmac_sha256_hex(secret, body)}


def test_connecting_shows_the_webhook_secret_once_and_keeps_the_token(api, jira):
    first = connect(api, jira)
    assert first["project_key"] == "SUP" and len(first["webhook_secret"]) >= 32
    assert first["webhook_path"] == f"/hooks/jira/{JiraConnection.objects.get().pk}/"
    again = connect(api, jira, api_token=None, issue_type="Bug")
    assert again["webhook_secret"] is None and again["issue_type"] == "Bug"
    assert crypto.decrypt_json(JiraConnection.objects.get().secrets_encrypted)["api_token"] == "tok-123"
    assert "tok-123" not in json.dumps(api.get("/api/v1/jira/connection").json())
    bad = send_json(api, "put", "/api/v1/jira/connection", {"base_url": jira.url, "email": "x@y.z",
                                                              "project_key": "not a key"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid")


def test_filing_an_issue_links_it_with_a_note_and_a_link_back(api, jira, conversation):
    connect(api, jira)
    response = send_json(api, "post", f"/api/v1/jira/conversations/{conversation.pk}/issues",
                         {"summary": "Refund stuck for order 1234", "description": "Customer waited 9 days.\nPlease check."})
    assert response.status_code == 201, response.content
    link = response.json()
    assert (link["issue_key"], link["status"], link["created_issue"]) == ("SUP-1", "To Do", True)
    assert link["url"] == f"{jira.url}/browse/SUP-1"
    [create] = jira.calls("POST", "/rest/api/3/issue")
    assert create.headers["authorization"] == "Basic " + base64.b64encode(b"bot@acme.test:tok-123").decode()
    fields = create.json()["fields"]
    assert fields["project"] == {"key": "SUP"} and fields["issuetype"] == {"name": "Task"}
    assert fields["description"]["type"] == "doc"
    assert fields["description"]["content"][0]["content"][0]["text"] == "Customer waited 9 days."
    [back] = jira.calls("POST", "/rest/api/3/issue/SUP-1/remotelink")
    assert back.json()["globalId"] == f"threadline:conversation:{conversation.pk}"
    assert back.json()["object"]["url"].endswith(f"/app/c/{conversation.pk}/")
    assert notes(conversation) == ["Jira issue SUP-1 filed: Refund stuck for order 1234"]
    listed = api.get(f"/api/v1/jira/conversations/{conversation.pk}/issues").json()
    assert [item["issue_key"] for item in listed] == ["SUP-1"]


def test_linking_an_existing_issue_and_what_jira_refuses(api, jira, conversation):
    connect(api, jira)
    path = f"/api/v1/jira/conversations/{conversation.pk}/links"
    assert send_json(api, "post", path, {"issue_key": "sup-1"}).status_code == 201
    assert send_json(api, "post", path, {"issue_key": "SUP-1"}).status_code == 201  # once only
    assert IssueLink.objects.count() == 1 and len(notes(conversation)) == 1
    assert send_json(api, "post", path, {"issue_key": "1234"}).json()["code"] == "invalid"
    jira.route("GET", "/rest/api/3/issue/SUP-9", 404, {"errorMessages": ["Issue does not exist"], "errors": {}})
    assert send_json(api, "post", path, {"issue_key": "SUP-9"}).json()["code"] == "jira_issue_not_found"
    jira.route("GET", "/rest/api/3/issue/SUP-8", 401, b"")
    refused = send_json(api, "post", path, {"issue_key": "SUP-8"})
    assert (refused.status_code, refused.json()["code"]) == (502, "jira_unauthorized")
    jira.route("GET", "/rest/api/3/issue/SUP-7", 429, {}, {"Retry-After": "30"})
    assert send_json(api, "post", path, {"issue_key": "SUP-7"}).status_code == 429
    link = IssueLink.objects.get()
    assert api.delete(f"/api/v1/jira/conversations/{conversation.pk}/issues/{link.pk}").status_code == 204
    assert not IssueLink.objects.exists()


def test_without_a_connection_the_link_says_so(api, conversation):
    response = send_json(api, "post", f"/api/v1/jira/conversations/{conversation.pk}/links", {"issue_key": "SUP-1"})
    assert (response.status_code, response.json()["code"]) == (404, "jira_not_connected")


def test_jira_status_change_posts_a_note(api, jira, client, conversation):
    secret = connect(api, jira)["webhook_secret"]
    send_json(api, "post", f"/api/v1/jira/conversations/{conversation.pk}/links", {"issue_key": "SUP-1"})
    url = f"/hooks/jira/{JiraConnection.objects.get().pk}/"
    body, headers = signed(secret, UPDATED)
    response = client.post(url, body, content_type="application/json", **headers)
    assert (response.status_code, response.json()) == (200, {"conversations": 1})
    link = IssueLink.objects.get()
    assert (link.status, link.status_category) == ("Done", "done")
    assert notes(conversation)[-1] == "Jira issue SUP-1 moved from To Do to Done."
    # the same status again (a comment, an edit) tells nobody
    assert client.post(url, body, content_type="application/json", **headers).json() == {"conversations": 0}
    deleted = {**copy.deepcopy(UPDATED), "webhookEvent": "jira:issue_deleted"}
    body, headers = signed(secret, deleted)
    assert client.post(url, body, content_type="application/json", **headers).json() == {"conversations": 1}
    assert not IssueLink.objects.exists() and notes(conversation)[-1] == "Jira issue SUP-1 was deleted."


def test_jira_webhook_refuses_what_it_cannot_verify(api, jira, client):
    secret = connect(api, jira)["webhook_secret"]
    url = f"/hooks/jira/{JiraConnection.objects.get().pk}/"
    body, headers = signed(secret, UPDATED)
    assert client.post(url, body + b" ", content_type="application/json", **headers).status_code == 401
    _body, wrong = signed("another-secret-0123456789abcdef", UPDATED)
    assert client.post(url, body, content_type="application/json", **wrong).status_code == 401
    assert client.post(url, body, content_type="application/json").status_code == 401
    assert client.post("/hooks/jira/999999/", body, content_type="application/json", **headers).status_code == 404
    not_json, headers = b"issue=1", {"HTTP_X_HUB_SIGNATURE": "sha256=" + crypto.hmac_sha256_hex(secret, b"issue=1")}
    answer = client.post(url, not_json, content_type="application/x-www-form-urlencoded", **headers)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_payload")
    assert client.get(url).status_code == 405


def test_another_workspace_sees_and_touches_none_of_it(api, jira, admin, client, conversation):
    connect(api, jira)
    send_json(api, "post", f"/api/v1/jira/conversations/{conversation.pk}/links", {"issue_key": "SUP-1"})
    link = IssueLink.objects.get()
    other = bearer(make_token(make_workspace("Other Desk")))
    assert api.get(f"/api/v1/jira/conversations/{conversation.pk}/issues", **other).status_code == 404
    assert api.delete(f"/api/v1/jira/conversations/{conversation.pk}/issues/{link.pk}", **other).status_code == 404
    assert api.get("/api/v1/jira/connection", **other).json()["code"] == "jira_not_connected"
    agent = bearer(make_token(make_agent(admin, "ann@example.com")))
    assert api.get("/api/v1/jira/connection", **agent).status_code == 403
    assert api.get(f"/api/v1/jira/conversations/{conversation.pk}/issues", **agent).status_code == 200
    assert IssueLink.objects.count() == 1


def test_the_customer_panel_files_links_and_shows_status(api, jira, admin, client, conversation):
    page = f"/app/c/{conversation.pk}/"
    client.force_login(admin.user)
    assert "jira-box" not in client.get(page).content.decode()  # not connected: nothing offered
    connect(api, jira)
    filed = client.post(f"/app/x/conversations/{conversation.pk}/jira/file",
                        {"summary": "Refund stuck", "description": "9 days"})
    assert filed.status_code == 302 and filed["Location"] == page
    html = client.get(page).content.decode()
    assert 'data-issue="SUP-1"' in html and f'href="{jira.url}/browse/SUP-1"' in html and ">To Do<" in html
    link = IssueLink.objects.get()
    assert client.post(f"/app/x/conversations/{conversation.pk}/jira/{link.pk}/unlink").status_code == 302
    assert 'data-issue="SUP-1"' not in client.get(page).content.decode()
    empty = client.post(f"/app/x/conversations/{conversation.pk}/jira/file", {"summary": " "},
                        HTTP_ACCEPT="application/json")
    assert empty.status_code == 400 and not IssueLink.objects.exists()
