"""Property-based tests of /api/v1 generated from its own OpenAPI document (schemathesis, in-process WSGI).

Every operation is called with valid and invalid data, authenticated as the admin of a workspace that holds a
channel, contacts, conversations with messages, notes and an attachment, a team and a webhook subscription;
generated ids are often swapped for real ones so the happy paths run too. No answer may be a 5xx, and every
answer must match the documented schema. Hypothesis is derandomized, so CI runs the same examples each time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from ninja.utils import normalize_path
from schemathesis import checks
from schemathesis.generation.modes import GenerationMode

from threadline.api.urls import api
from threadline.conversations.models import Attachment
from threadline.conversations.tests.builders import inbound_conversation, send_json
from threadline.testing.factories import make_agent, make_api_channel

EXAMPLES_PER_OPERATION = 10

# Path and body parameters whose generated value is replaced, two times in three, by a row that exists.
ID_NAMES = {
    "conversation_id": "conversation", "into_id": "conversation", "message_id": "message",
    "attachment_id": "attachment", "agent_id": "agent", "assignee_id": "agent", "team_id": "team",
    "channel_id": "channel", "subscription_id": "subscription", "delivery_id": "delivery",
    "contact_id": "contact", "identity_id": "identity", "membership_id": "agent",
}


@pytest.fixture
def seeded(admin, api, client, run_jobs, settings) -> dict[str, Any]:
    settings.THREADLINE = {**settings.THREADLINE, "API_RATE_LIMIT": 1_000_000}
    channel = make_api_channel(admin)
    first = inbound_conversation(client, channel, run_jobs, "m-1", "dana@example.com", "Where is my order?",
                                 attachments=[{"filename": "photo.png", "content_type": "image/png",
                                               "content_base64": base64.b64encode(b"\x89PNG fake").decode()}])
    inbound_conversation(client, channel, run_jobs, "m-2", "eli@example.com", "שלום")
    agent = make_agent(admin, "bob@acme.example")
    team = send_json(api, "post", "/api/v1/teams", {"name": "Billing", "member_ids": [agent.pk]}).json()
    subscription = send_json(api, "post", "/api/v1/webhooks",
                             {"url": "http://127.0.0.1:9/in", "event_types": ["*"]}).json()
    send_json(api, "patch", f"/api/v1/conversations/{first.pk}", {"status": "open", "tags": ["vip"]})
    run_jobs()  # the webhook deliveries fail (nothing listens there), which fills the delivery log
    deliveries = api.get(f"/api/v1/webhooks/{subscription['id']}/deliveries").json()["items"]
    return {
        "token": api.defaults["HTTP_AUTHORIZATION"],
        "conversation": first.pk, "message": first.messages.first().pk,
        "contact": first.contact_id, "identity": first.contact.identities.first().pk,
        "attachment": Attachment.objects.get(message__conversation=first).pk,
        "agent": agent.pk, "team": team["id"], "channel": channel.pk, "subscription": subscription["id"],
        "delivery": deliveries[0]["id"] if deliveries else 1,
    }


@pytest.fixture
def wsgi_app(seeded) -> Iterator[Any]:
    """Django's WSGI application, kept from closing the test's database connection after each request
    (as Django's own test client does), so every call sees the seeded rows inside the test transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


OPENAPI_PATH = "/api/v1/openapi.json"
_DOCUMENT: dict[str, str] = {}  # the OpenAPI document as the app served it to this test process's first test


def load_schema(app: Any, seeded: dict[str, Any]) -> Any:
    """The API's OpenAPI document, fetched from the app by the process's first test and parsed anew for each
    test: ninja builds it on every request, 2.5 s of CPU (37 times a run was a third of this module's time)."""
    if "json" not in _DOCUMENT:
        loaded = schemathesis.openapi.from_wsgi(OPENAPI_PATH, app)
        _DOCUMENT["json"] = json.dumps(loaded.raw_schema)
    loaded = schemathesis.openapi.from_dict(json.loads(_DOCUMENT["json"]))
    loaded.app = app
    loaded.location = OPENAPI_PATH

    def real_id(name: str, value: Any) -> Any:
        if name in ID_NAMES and isinstance(value, int) and not isinstance(value, bool) and value % 3:
            return seeded[ID_NAMES[name]]
        return value

    @loaded.hook
    def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
        if not isinstance(path_parameters, dict):
            return path_parameters
        return {name: real_id(name, value) for name, value in path_parameters.items()}

    @loaded.hook
    def map_body(context: Any, body: Any) -> Any:
        if isinstance(body, dict):
            return {name: real_id(name, value) for name, value in body.items()}
        return body

    return loaded


def run_operation(loaded: Any, operation: Any, token: str, statuses: list[int]) -> None:
    strategy = (operation.as_strategy(GenerationMode.POSITIVE, hooks=loaded.hooks)
                | operation.as_strategy(GenerationMode.NEGATIVE, hooks=loaded.hooks))

    @given(case=strategy)
    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def exercise(case: Any) -> None:
        response = case.call(headers={"Authorization": token})
        statuses.append(response.status_code)
        case.validate_response(response, checks=[checks.not_a_server_error, checks.response_schema_conformance])
        if response.status_code >= 400:
            body = json.loads(response.content)
            assert isinstance(body.get("code"), str) and isinstance(body.get("message"), str), body

    exercise()


def resource(path: str) -> str:
    """The first segment after /api/v1/: operations are tested in groups, so xdist spreads them."""
    return path.removeprefix("/api/v1").strip("/").split("/")[0] or "root"


def api_paths() -> set[str]:
    """The paths of the API's operations, as its OpenAPI document lists them (ninja's get_paths), read from its
    routers: building the document itself at collection cost each test process 2.5 s of CPU."""
    return {normalize_path("/".join(part for part in (prefix, path) if part))
            for prefix, router in api._routers for path in router.path_operations}  # noqa: SLF001


RESOURCES = sorted({resource(path) for path in api_paths()})


@pytest.mark.parametrize("group", RESOURCES)
def test_api_answers_every_generated_request_without_a_server_error(wsgi_app, seeded, group):
    loaded = load_schema(wsgi_app, seeded)
    operations = [result.ok() for result in loaded.get_all_operations()]
    failures, seen = [], {}
    # Deletions last, so the other operations find the seeded rows.
    for operation in sorted(operations, key=lambda op: op.method.upper() == "DELETE"):
        if resource(operation.path) != group:
            continue
        statuses: list[int] = []
        try:
            run_operation(loaded, operation, seeded["token"], statuses)
        except Exception as exc:  # noqa: BLE001 - every operation is tried; all failures are reported together
            failures.append(f"{operation.label}: {exc}")
        seen[operation.label] = sorted(set(statuses))
    assert seen, f"no operation under /api/v1/{group}"
    assert not failures, "\n\n".join(failures)
