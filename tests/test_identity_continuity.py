"""Identity continuity end to end, through HTTP only: the API channel's signed webhook, the REST API, the worker.

(a) a customer who wrote by email and whose phone an agent added writes from the phone: same conversation;
(b) two contacts merged then unmerged through the API are restored exactly;
(c) a solved conversation reopens within the workspace's reopen window; after it a new one follows the old.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import time_machine

from threadline.testing.factories import make_api_channel, signed_body

_ids = itertools.count(1)


def write(client, channel, kind: str, address: str, text: str, name: str = "") -> None:
    """The external system posts one customer message to the API channel's webhook."""
    document = {"message_id": f"ext-{next(_ids)}", "text": text,
                "sender": {"kind": kind, "address": address, "name": name}}
    body, headers = signed_body(channel, document)
    response = client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers)
    assert response.status_code == 202, response.content


def call(api, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
    if method == "get":
        response = api.get(f"/api/v1{path}", query)
    else:
        response = getattr(api, method)(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json")
    assert response.status_code < 300, (method, path, response.status_code, response.content)
    return json.loads(response.content) if response.content else None


def only_contact(api, q: str) -> dict[str, Any]:
    [contact] = call(api, "get", "/contacts", q=q)["items"]
    return contact


def conversations_of(api, contact_id: int) -> list[dict[str, Any]]:
    return call(api, "get", "/conversations", contact=contact_id)["items"]


def without_updated_at(value: Any) -> Any:
    """The JSON minus `updated_at` stamps: a merge and an unmerge are changes, and say so there."""
    if isinstance(value, dict):
        return {k: without_updated_at(v) for k, v in value.items() if k != "updated_at"}
    if isinstance(value, list):
        return [without_updated_at(v) for v in value]
    return value


def test_a_customer_writing_from_a_phone_an_agent_added_lands_in_the_same_conversation(api, admin, run_jobs):
    channel = make_api_channel(admin)  # the workspace's phone region is IL
    write(api, channel, "email", "Dana.Levi@Example.COM", "My order has not arrived", name="Dana Levi")
    run_jobs()
    dana = only_contact(api, "dana.levi@example.com")
    [conversation] = conversations_of(api, dana["id"])

    identity = call(api, "post", f"/contacts/{dana['id']}/identities", {"kind": "phone", "address": "052-555-1234"})
    assert identity["address"] == "+972525551234"

    write(api, channel, "phone", "+972 52-555-1234", "Any news about the order?")
    run_jobs()
    assert only_contact(api, "052-555-1234")["id"] == dana["id"]
    assert [c["id"] for c in conversations_of(api, dana["id"])] == [conversation["id"]]
    messages = call(api, "get", f"/conversations/{conversation['id']}/messages")["items"]
    assert sorted(m["text"] for m in messages) == ["Any news about the order?", "My order has not arrived"]
    assert len(call(api, "get", "/contacts")["items"]) == 1


def test_merge_then_unmerge_through_the_api_restores_both_contacts_exactly(api, admin, run_jobs):
    channel = make_api_channel(admin)
    write(api, channel, "email", "noa.cohen@example.com", "Hello from email", name="Noa Cohen")
    write(api, channel, "telegram", "5550001", "Hello from Telegram", name="Noa")
    run_jobs()
    by_email = only_contact(api, "noa.cohen@example.com")
    by_telegram = only_contact(api, "5550001")
    assert by_email["id"] != by_telegram["id"]

    def snapshot() -> Any:
        return without_updated_at([
            call(api, "get", f"/contacts/{by_email['id']}"), call(api, "get", f"/contacts/{by_telegram['id']}"),
            conversations_of(api, by_email["id"]), conversations_of(api, by_telegram["id"]),
        ])

    before = snapshot()
    assert len(before[2]) == len(before[3]) == 1

    merge = call(api, "post", f"/contacts/{by_email['id']}/merge", {"source_id": by_telegram["id"]})
    merged = call(api, "get", f"/contacts/{by_email['id']}")
    assert {(i["kind"], i["address"]) for i in merged["identities"]} == {
        ("email", "noa.cohen@example.com"), ("telegram", "5550001")}
    assert call(api, "get", f"/contacts/{by_telegram['id']}")["merged_into_id"] == by_email["id"]
    assert len(conversations_of(api, by_email["id"])) == 2
    assert conversations_of(api, by_telegram["id"]) == []
    events = call(api, "get", f"/conversations/{before[3][0]['id']}/events")["items"]
    assert "contact_merged" in [e["kind"] for e in events]

    undone = call(api, "post", f"/contacts/merges/{merge['id']}/unmerge")
    assert undone["unmerged_at"] is not None
    assert snapshot() == before
    response = api.post(f"/api/v1/contacts/merges/{merge['id']}/unmerge")
    assert (response.status_code, json.loads(response.content)["code"]) == (409, "already_unmerged")


def test_a_solved_conversation_reopens_within_the_window_and_a_new_one_follows_after_it(api, admin, run_jobs):
    channel = make_api_channel(admin)
    window = admin.workspace.reopen_window_days
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        write(api, channel, "email", "tal@example.com", "The app crashes", name="Tal")
        run_jobs()
        tal = only_contact(api, "tal@example.com")
        [first] = conversations_of(api, tal["id"])
        call(api, "patch", f"/conversations/{first['id']}", {"status": "solved"})

        clock.shift(dt.timedelta(days=window - 1))
        write(api, channel, "email", "tal@example.com", "It crashes again")
        run_jobs()
        [reopened] = conversations_of(api, tal["id"])
        assert (reopened["id"], reopened["status"]) == (first["id"], "open")
        assert reopened["reopened_at"] is not None

        call(api, "patch", f"/conversations/{first['id']}", {"status": "solved"})
        clock.shift(dt.timedelta(days=window + 1))
        write(api, channel, "email", "tal@example.com", "A new problem")
        run_jobs()
        newest, old = conversations_of(api, tal["id"])  # newest first
        assert old["id"] == first["id"] and old["status"] == "solved"
        assert newest["previous_id"] == first["id"]
        assert newest["status"] in ("new", "open")
