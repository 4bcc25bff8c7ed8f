"""The API's error contract: every error is JSON with `code` and `message`, and a caller's mistake is a 4xx."""

from __future__ import annotations

import pytest

from threadline.conversations.tests.builders import inbound_conversation
from threadline.testing.factories import make_api_channel


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["code"], str) and isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["code"] == code
    return body


@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer tl_nope"},
                                     {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}])
def test_unauthenticated_requests_are_a_json_401(client, db, headers):
    response = client.get("/api/v1/conversations", **headers)
    assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == "Bearer"


def test_the_openapi_document_is_public(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/conversations" in response.json()["paths"]


@pytest.fixture
def conversation(admin, client, run_jobs):
    return inbound_conversation(client, make_api_channel(admin), run_jobs, "m-1", "dana@example.com")


@pytest.mark.parametrize(("body", "content_type"), [
    (b"{not json", "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    (b"status=solved", "application/x-www-form-urlencoded"),
    (b"status: solved", "text/plain"),
])
def test_unparsable_bodies_are_a_400(api, conversation, body, content_type):
    response = api.patch(f"/api/v1/conversations/{conversation.pk}", body, content_type=content_type)
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("body", [b"[]", b'"solved"', b"null", b"42", b'{"status": ["solved"]}'])
def test_json_of_the_wrong_shape_is_a_422(api, conversation, body):
    response = api.patch(f"/api/v1/conversations/{conversation.pk}", body, content_type="application/json")
    assert response.status_code in (400, 422), response.content
    assert_error(response, response.status_code)


def test_a_missing_body_is_a_422(api, conversation):
    response = api.post(f"/api/v1/conversations/{conversation.pk}/notes", b"", content_type="application/json")
    assert_error(response, 422, "invalid")


@pytest.mark.parametrize("path", [
    "/api/v1/conversations/99999999999999999999",
    "/api/v1/conversations/9223372036854775808",
    "/api/v1/conversations/-1",
    "/api/v1/conversations/0",
    "/api/v1/conversations/abc",
    "/api/v1/messages/1e3",
    "/api/v1/agents/99999999999999999999",
    "/api/v1/teams/99999999999999999999",
    "/api/v1/channels/99999999999999999999",
    "/api/v1/webhooks/99999999999999999999",
    "/api/v1/attachments/99999999999999999999",
    "/api/v1/conversations?team=99999999999999999999",
    "/api/v1/conversations?assignee=99999999999999999999",
    "/api/v1/conversations?limit=100000",
])
def test_out_of_range_or_malformed_numbers_are_a_422(api, path):
    assert_error(api.get(path), 422, "invalid")


def test_the_largest_id_is_simply_not_found(api):
    assert_error(api.get("/api/v1/conversations/9223372036854775807"), 404, "conversation_not_found")


def test_unknown_paths_and_methods_are_json(api):
    assert_error(api.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error(api.delete("/api/v1/conversations"), 405, "method_not_allowed")


@pytest.mark.parametrize("path", ["/api/v1/", "/api/", "/api", "/api/v1", "/api/v2/contacts", "/api/nope/"])
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_every_path_under_api_answers_json(client, db, path, method):
    """The API root and any path under /api/ outside a known endpoint: JSON, never Django's HTML pages."""
    response = getattr(client, method)(path)
    assert response["Content-Type"].startswith("application/json"), (path, method, response.status_code)
    if path.rstrip("/") == "/api/v1" and method == "get":
        assert response.status_code == 200
        assert response.json()["openapi"] == "/api/v1/openapi.json"
    else:
        assert 400 <= response.status_code < 500
        assert isinstance(response.json()["code"], str)


def test_too_large_a_body_is_a_413(api, conversation, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(f"/api/v1/conversations/{conversation.pk}/notes", b'{"text": "' + b"x" * 2000 + b'"}',
                        content_type="application/json")
    assert_error(response, 413, "payload_too_large")


def test_rate_limit_per_token_answers_429_with_retry_after(api, admin, settings):
    settings.THREADLINE = {**settings.THREADLINE, "API_RATE_LIMIT": 3}
    statuses = [api.get("/api/v1/me").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = api.get("/api/v1/me")
    assert_error(limited, 429, "rate_limited")
    assert 1 <= int(limited["Retry-After"]) <= 60
    # Another token of the same workspace has its own budget.
    from threadline.testing.factories import make_token

    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {make_token(admin)}").status_code == 200
