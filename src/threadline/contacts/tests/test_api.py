"""/api/v1/contacts through HTTP: CRUD, identities, search, merge/unmerge, suggestions, errors, permissions."""

from __future__ import annotations

import json

import pytest

from threadline.contacts.tests.builders import inbound
from threadline.testing.factories import make_agent, make_api_channel, make_token, make_workspace

BASE = "/api/v1/contacts"


def send(api, method, path, body=None, **query):
    call = getattr(api, method)
    if body is None:
        response = call(path, query) if method == "get" else call(path)
    else:
        response = call(path, json.dumps(body), content_type="application/json")
    content = json.loads(response.content) if response.content else None
    return response.status_code, content


def create(api, **body):
    status, data = send(api, "post", BASE, body)
    assert status == 201, data
    return data


def test_create_with_identities_normalizes_them_and_get_returns_them(api):
    data = create(api, name="Dana Levi", language="he", time_zone="Asia/Jerusalem", country="il",
                  attributes={"tier": "gold"}, consent={"marketing": False},
                  identities=[{"kind": "email", "address": "Dana.Levi@Example.COM", "verified": True},
                              {"kind": "phone", "address": "052-555-1234"}])
    assert (data["name"], data["country"], data["merged_into_id"]) == ("Dana Levi", "IL", None)
    assert [(i["kind"], i["address"], i["verified"]) for i in data["identities"]] == [
        ("email", "dana.levi@example.com", True), ("phone", "+972525551234", False)]
    status, fetched = send(api, "get", f"{BASE}/{data['id']}")
    assert status == 200 and fetched == data


BAD_CREATES = [
    ({"time_zone": "Mars/Olympus"}, 400, "invalid_time_zone"),
    ({"country": "XX"}, 400, "invalid_country"),
    ({"language": "not a language"}, 400, "invalid_language"),
    ({"name": "bad\x00name"}, 400, "invalid_text"),
    ({"attributes": {"k": "v\x00"}}, 400, "invalid_text"),
    ({"identities": [{"kind": "fax", "address": "1"}]}, 422, "invalid"),
    ({"identities": [{"kind": "phone", "address": "+1 555 555 5555"}]}, 400, "invalid_phone"),
    ({"identities": [{"kind": "email", "address": ""}]}, 422, "invalid"),
    ({"name": 12}, 422, "invalid"),
    ({"name": "X", "unknown": 1}, 422, "invalid"),
]


def test_bad_input_is_a_4xx_json_error_and_nothing_is_stored(api):
    for body, status, code in BAD_CREATES:
        got, data = send(api, "post", BASE, body)
        assert (got, data["code"]) == (status, code), (body, data)
        assert data["message"]
    assert send(api, "get", BASE)[1]["items"] == []


def test_list_pages_newest_first_and_hides_merged_contacts(api):
    ids = [create(api, name=f"Person {n}")["id"] for n in range(5)]
    status, first = send(api, "get", BASE, limit=3)
    assert status == 200
    assert [c["id"] for c in first["items"]] == ids[::-1][:3]
    _, second = send(api, "get", BASE, limit=3, cursor=first["next_cursor"])
    assert [c["id"] for c in second["items"]] == ids[::-1][3:] and second["next_cursor"] is None
    send(api, "post", f"{BASE}/{ids[0]}/merge", {"source_id": ids[1]})
    assert ids[1] not in [c["id"] for c in send(api, "get", BASE)[1]["items"]]
    assert ids[1] in [c["id"] for c in send(api, "get", BASE, include_merged="true")[1]["items"]]
    assert send(api, "get", BASE, cursor="garbage!")[1]["code"] == "invalid_cursor"


SEARCHES = [
    ("dana", {"dana"}), ("LEVI", {"dana"}), ("josé", {"jose"}), ("jose", {"jose"}), ("NUNEZ", {"jose"}),
    ("Núñ", {"jose"}), ("xjo", {"namesake"}), ("555 1234", {"dana"}), ("1234", {"dana"}),
    ("+972 52-555-1234", {"dana"}), ("052-555-1234", {"dana"}), ("0525551234", {"dana"}),
    ("DANA.LEVI@EXAMPLE.COM", {"dana"}), ("example.com", {"dana", "jose", "namesake"}), ("דנה", {"hebrew"}),
    ("nobody", set()),
    # a whole address with an exact match names only its owner (an index lookup), not addresses containing it;
    # a fragment is searched in the search index: words of names and addresses, the start of the last word, a
    # phone number's last digits (not any substring: "se@example.com" is no word of "jose@example.com")
    ("jose@example.com", {"jose"}), ("jose@exa", {"jose"}), ("se@example.com", set()),
    ("nobody-jose@example.com", set()),
]


def test_search_by_name_or_normalized_address(api, run_jobs):
    people = {
        "dana": create(api, name="Dana Levi", identities=[{"kind": "phone", "address": "+972525551234"},
                                                          {"kind": "email", "address": "dana.levi@example.com"}]),
        "jose": create(api, name="José Núñez", identities=[{"kind": "email", "address": "jose@example.com"}]),
        "hebrew": create(api, name="דָּנָה כהן"),
        "namesake": create(api, name="Another", identities=[{"kind": "email", "address": "xjose@example.com"}]),
    }
    run_jobs()  # the search index follows the contacts' events
    for q, found in SEARCHES:
        status, data = send(api, "get", BASE, q=q)
        assert status == 200
        assert {c["id"] for c in data["items"]} == {people[k]["id"] for k in found}, q


def test_patch_changes_only_what_is_sent(api):
    contact = create(api, name="Dana", language="he")
    status, data = send(api, "patch", f"{BASE}/{contact['id']}", {"name": "Dana Levi", "attributes": {"vip": True}})
    assert status == 200
    assert (data["name"], data["language"], data["attributes"]) == ("Dana Levi", "he", {"vip": True})
    status, data = send(api, "patch", f"{BASE}/{contact['id']}", {"time_zone": "Nowhere/Land"})
    assert (status, data["code"], data["field"]) == (400, "invalid_time_zone", "time_zone")


def test_delete_only_without_conversations(api, admin):
    lonely = create(api, name="Lonely")
    assert send(api, "delete", f"{BASE}/{lonely['id']}") == (204, None)
    assert send(api, "get", f"{BASE}/{lonely['id']}")[0] == 404
    talker = inbound(make_api_channel(admin), "email", "talker@example.com").author_contact
    status, data = send(api, "delete", f"{BASE}/{talker.pk}")
    assert (status, data["code"]) == (409, "contact_has_conversations")


def test_identities_are_added_normalized_and_a_taken_one_is_a_conflict(api):
    dana = create(api, name="Dana")
    noa = create(api, name="Noa", identities=[{"kind": "phone", "address": "+972 52 555 1234"}])
    status, data = send(api, "post", f"{BASE}/{dana['id']}/identities", {"kind": "email", "address": "D@Ex.com"})
    assert (status, data["kind"], data["address"], data["source"]) == (201, "email", "d@ex.com", "agent")
    status, data = send(api, "post", f"{BASE}/{dana['id']}/identities", {"kind": "phone", "address": "052-555-1234"})
    assert (status, data["code"]) == (409, "identity_taken")
    status, data = send(api, "post", f"{BASE}/{dana['id']}/identities", {"kind": "phone", "address": "hello"})
    assert (status, data["code"]) == (400, "invalid_phone")
    identity_id = send(api, "get", f"{BASE}/{noa['id']}")[1]["identities"][0]["id"]
    assert send(api, "delete", f"{BASE}/{dana['id']}/identities/{identity_id}")[0] == 404  # not Dana's
    assert send(api, "delete", f"{BASE}/{noa['id']}/identities/{identity_id}") == (204, None)
    status, _ = send(api, "post", f"{BASE}/{dana['id']}/identities", {"kind": "phone", "address": "052-555-1234"})
    assert status == 201


def test_merge_and_unmerge_through_the_api(api):
    target = create(api, name="Dana Levi", identities=[{"kind": "email", "address": "dana@example.com"}])
    source = create(api, language="he", identities=[{"kind": "telegram", "address": "5550001"}])
    status, merge = send(api, "post", f"{BASE}/{target['id']}/merge", {"source_id": source["id"]})
    assert status == 201
    assert (merge["source_id"], merge["target_id"], merge["unmerged_at"]) == (source["id"], target["id"], None)
    assert merge["moved"] == {"identities": 1, "conversations": 0, "messages": 0}
    merged = send(api, "get", f"{BASE}/{target['id']}")[1]
    assert (merged["language"], len(merged["identities"])) == ("he", 2)
    assert send(api, "get", f"{BASE}/{source['id']}")[1]["merged_into_id"] == target["id"]
    assert [m["id"] for m in send(api, "get", f"{BASE}/{source['id']}/merges")[1]] == [merge["id"]]

    status, undone = send(api, "post", f"{BASE}/merges/{merge['id']}/unmerge")
    assert status == 200 and undone["unmerged_at"] is not None
    for before in (target, source):
        now = send(api, "get", f"{BASE}/{before['id']}")[1]
        assert {k: v for k, v in now.items() if k != "updated_at"} == {
            k: v for k, v in before.items() if k != "updated_at"}
    status, data = send(api, "post", f"{BASE}/merges/{merge['id']}/unmerge")
    assert (status, data["code"]) == (409, "already_unmerged")


@pytest.mark.parametrize(("which", "status", "code"), [
    ("self", 400, "merge_self"), ("missing", 404, "contact_not_found"), ("huge", 422, "invalid"),
    ("other_workspace", 404, "contact_not_found"),
])
def test_merge_errors(api, which, status, code):
    target = create(api, name="Dana")
    source_id = {"self": target["id"], "missing": target["id"] + 1000, "huge": 2**70,
                 "other_workspace": None}[which]
    if which == "other_workspace":
        other_admin = make_workspace("Other Co")
        other_api_contact = inbound(make_api_channel(other_admin), "email", "x@example.com").author_contact
        source_id = other_api_contact.pk
    got, data = send(api, "post", f"{BASE}/{target['id']}/merge", {"source_id": source_id})
    assert (got, data["code"]) == (status, code)


def test_suggestions_are_listed_with_reasons_and_can_be_accepted_or_dismissed(api, admin):
    channel = make_api_channel(admin)
    existing = inbound(channel, "email", "dana@acme.example", name="Dana Levi").author_contact
    newer = inbound(channel, "email", "d.levi@acme.example", name="DANA LEVI").author_contact
    status, items = send(api, "get", f"{BASE}/{existing.pk}/suggestions")
    assert status == 200 and len(items) == 1
    suggestion = items[0]
    assert (suggestion["contact"]["id"], suggestion["candidate"]["id"]) == (newer.pk, existing.pk)
    assert suggestion["score"] == 0.7
    assert [(r["code"], r["message"]) for r in suggestion["reasons"]] == [
        ("same_name", "Same name: DANA LEVI and Dana Levi"),
        ("same_name_and_domain", "Same name, and both write from acme.example")]
    status, merge = send(api, "post", f"{BASE}/suggestions/{suggestion['id']}/accept")
    assert status == 201 and (merge["source_id"], merge["target_id"]) == (newer.pk, existing.pk)
    assert send(api, "get", f"{BASE}/{existing.pk}/suggestions")[1] == []
    accepted = send(api, "get", f"{BASE}/{existing.pk}/suggestions", state="accepted")[1]
    assert [s["id"] for s in accepted] == [suggestion["id"]]
    status, data = send(api, "post", f"{BASE}/suggestions/{suggestion['id']}/dismiss")
    assert (status, data["code"]) == (409, "suggestion_resolved")

    inbound(channel, "line", "U-1", name="Noa Cohen")
    other = inbound(channel, "line", "U-2", name="Noa Cohen").author_contact
    [pending] = send(api, "get", f"{BASE}/{other.pk}/suggestions")[1]
    status, data = send(api, "post", f"{BASE}/suggestions/{pending['id']}/dismiss")
    assert (status, data["state"]) == (200, "dismissed")


def test_light_agents_read_but_may_not_change_contacts(client, admin):
    contact = inbound(make_api_channel(admin), "email", "dana@example.com").author_contact
    other = inbound(make_api_channel(admin), "email", "noa.cohen@example.com").author_contact
    light = make_agent(admin, "light@example.com", role="light_agent")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {make_token(light)}"
    assert send(client, "get", f"{BASE}/{contact.pk}")[0] == 200
    for method, path, body in [
        ("post", BASE, {"name": "X"}),
        ("patch", f"{BASE}/{contact.pk}", {"name": "X"}),
        ("delete", f"{BASE}/{contact.pk}", None),
        ("post", f"{BASE}/{contact.pk}/identities", {"kind": "telegram", "address": "1"}),
        ("post", f"{BASE}/{contact.pk}/merge", {"source_id": other.pk}),
    ]:
        status, data = send(client, method, path, body)
        assert (status, data["code"]) == (403, "permission_denied"), (method, path)


def test_contacts_of_another_workspace_are_not_found(api):
    other_admin = make_workspace("Other Co")
    stranger = inbound(make_api_channel(other_admin), "email", "x@example.com").author_contact
    for method, path in [("get", f"{BASE}/{stranger.pk}"), ("get", f"{BASE}/{stranger.pk}/suggestions"),
                         ("delete", f"{BASE}/{stranger.pk}"), ("get", f"{BASE}/{stranger.pk}/merges")]:
        status, data = send(api, method, path)
        assert (status, data["code"]) == (404, "contact_not_found")


@pytest.mark.parametrize("path", [f"{BASE}/{2**64}", f"{BASE}/0", f"{BASE}/merges/{2**63}/unmerge",
                                  f"{BASE}/suggestions/99999999999999999999999/accept"])
def test_out_of_range_ids_are_4xx(api, path):
    method = "post" if path.endswith(("unmerge", "accept")) else "get"
    status, data = send(api, method, path)
    assert 400 <= status < 500 and data["code"] and data["message"]


def test_a_nul_character_in_the_search_is_refused(api):
    status, data = send(api, "get", BASE, q="da\x00na")
    assert (status, data["code"]) == (400, "invalid_text")


def test_without_a_token_nothing_is_shown(client):
    assert send(client, "get", BASE)[0] == 401
