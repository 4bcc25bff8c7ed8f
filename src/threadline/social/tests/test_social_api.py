"""The social mentions shape through the API channel, /api/v1/social (paging, filters, actions, approval by a
second agent, settings and rules), automatic rules, and two workspaces that never see each other's items."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from threadline.channels.models import InboundEvent
from threadline.contacts.actions import do_add_identity, do_create_contact
from threadline.events.models import OutboxEvent
from threadline.social.models import ActionState, ItemStatus, PublicAction, PublicItem
from threadline.tenancy.actions import do_create_team
from threadline.testing.factories import make_agent, make_api_channel, make_token, make_workspace, signed_body

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def mention(name: str = "mention_x.json", **changes) -> dict:
    return {**json.loads((FIXTURES / name).read_text()), **changes}


def push(client, channel, document, status=202):
    body, headers = signed_body(channel, document)
    response = client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers)
    assert response.status_code == status, response.content
    return response


def bearer(member) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {make_token(member)}"}


def test_mentions_shape_is_verified_idempotent_and_triaged(client, admin, run_jobs):
    channel = make_api_channel(admin)
    push(client, channel, mention())
    push(client, channel, mention(), status=200)  # the same (source, external_id): one item
    push(client, channel, mention("mention_review.json"))
    body, _headers = signed_body(channel, mention())
    refused = client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json",
                          HTTP_X_THREADLINE_SIGNATURE="sha256=" + "0" * 64)
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_signature"
    bad = push(client, channel, mention(created_at="yesterday", external_id="2"), status=400)
    assert bad.json()["code"] == "invalid_payload" and "created_at" in bad.json()["message"]
    assert push(client, channel, mention(source="X Twitter", external_id="3"), status=400).json()["code"] == \
        "invalid_payload"
    run_jobs()
    x, review = PublicItem.objects.order_by("id")
    assert (x.source, x.kind, x.author_handle, x.author_reach, x.url) == (
        "x", "mention", "dana_levi", 12800, "https://x.com/dana_levi/status/1864310022339281254")
    assert x.category == "complaint" and x.priority > review.priority
    assert (review.source, review.language, review.author_reach, review.category) == ("trustpilot", "cs", None,
                                                                                       "praise")
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {"processed"}
    payload = OutboxEvent.objects.filter(type="social.item_received").order_by("id").first().payload
    assert payload["channel_kind"] == "social_api" and payload["item_id"] == x.pk


def test_edits_and_removals_from_a_listening_source(client, admin, run_jobs):
    channel = make_api_channel(admin)
    push(client, channel, mention())
    push(client, channel, mention(action="edited", text="@threadline_coffee all sorted now, thanks!"))
    push(client, channel, mention(action="edited", text="@threadline_coffee all sorted now, thanks!"), status=200)
    assert push(client, channel, mention(action="deleted", external_id="9"), status=400).json()["code"] == \
        "invalid_payload"
    run_jobs()
    item = PublicItem.objects.get()
    assert item.text.endswith("all sorted now, thanks!") and item.edited_at is not None
    push(client, channel, mention(action="remove"))
    run_jobs()
    assert PublicItem.objects.get().removed


def test_known_customer_by_handle(client, admin, run_jobs):
    channel = make_api_channel(admin)
    with transaction.atomic():
        dana = do_create_contact(admin.workspace, name="Dana Levi")
        do_add_identity(dana, "external", "x:dana_levi", source="agent")
    push(client, channel, mention())
    run_jobs()
    assert PublicItem.objects.get().contact == dana


def test_list_filters_and_paging(client, admin, run_jobs):
    channel = make_api_channel(admin)
    for n in range(5):
        push(client, channel, mention(external_id=f"18643100223392812{n:02d}"))
    push(client, channel, mention("mention_review.json"))
    run_jobs()
    auth = bearer(admin)
    first = client.get("/api/v1/social/items?limit=4", **auth).json()
    second = client.get(f"/api/v1/social/items?limit=4&cursor={first['next_cursor']}", **auth).json()
    assert len(first["items"]) == 4 and len(second["items"]) == 2 and second["next_cursor"] is None
    praise = client.get("/api/v1/social/items?category=praise", **auth).json()["items"]
    assert [i["source"] for i in praise] == ["trustpilot"]
    item = praise[0]
    assert item["verdict"]["reasons"] and isinstance(item["verdict"]["reasons"][0], str)
    assert client.get("/api/v1/social/items?source=x&min_priority=0", **auth).json()["items"][0]["author"][
        "reach"] == 12800
    assert client.get("/api/v1/social/items?cursor=nonsense", **auth).json()["code"] == "invalid_cursor"


def test_approval_needs_a_second_agent(client, admin, run_jobs, receiver):
    channel = make_api_channel(admin, webhook_url=receiver.url)
    push(client, channel, mention())
    run_jobs()
    item = PublicItem.objects.get()
    noa, omer = make_agent(admin, "noa@example.com"), make_agent(admin, "omer@example.com")
    settings = client.put("/api/v1/social/settings", {"approval_required": True, "private_invitation": ""},
                          content_type="application/json", **bearer(admin))
    assert settings.status_code == 200 and settings.json()["approval_required"]
    draft = client.post(f"/api/v1/social/items/{item.pk}/reply", {"text": "Sorry Dana, we are on it."},
                        content_type="application/json", **bearer(noa))
    assert draft.status_code == 201 and draft.json()["state"] == "draft"
    run_jobs()
    assert receiver.requests == []  # nothing posted before approval
    waiting = client.get("/api/v1/social/items?status=waiting_approval", **bearer(omer)).json()["items"]
    assert [i["id"] for i in waiting] == [item.pk]
    own = client.post(f"/api/v1/social/actions/{draft.json()['id']}/approve", **bearer(noa))
    assert own.status_code == 403 and own.json()["code"] == "own_draft"
    approved = client.post(f"/api/v1/social/actions/{draft.json()['id']}/approve", **bearer(omer))
    assert approved.status_code == 200 and approved.json()["approved_by_id"] == omer.pk
    run_jobs()
    sent = json.loads(receiver.requests[0].body)
    assert sent == {"type": "social.reply", "source": "x", "in_reply_to": "1864310022339281254",
                    "text": "Sorry Dana, we are on it."}
    assert PublicAction.objects.get().state == ActionState.DONE
    assert PublicItem.objects.get(pk=item.pk).status == ItemStatus.ANSWERED
    again = client.post(f"/api/v1/social/actions/{draft.json()['id']}/approve", **bearer(omer))
    assert again.status_code == 409 and again.json()["code"] == "not_a_draft"


def test_move_private_off_meta_is_the_public_invitation(client, admin, run_jobs, receiver):
    channel = make_api_channel(admin, webhook_url=receiver.url)
    push(client, channel, mention())
    run_jobs()
    item = PublicItem.objects.get()
    refused = client.post(f"/api/v1/social/items/{item.pk}/private", {"text": ""}, content_type="application/json",
                          **bearer(admin))
    assert refused.status_code == 400 and refused.json()["code"] == "no_private_reply"
    client.put("/api/v1/social/settings", {"private_invitation": "Please write to us at help@example.com."},
               content_type="application/json", **bearer(admin))
    moved = client.post(f"/api/v1/social/items/{item.pk}/private", {"text": ""}, content_type="application/json",
                        **bearer(admin))
    assert moved.status_code == 201 and moved.json()["text"] == "Please write to us at help@example.com."
    run_jobs()
    assert json.loads(receiver.requests[0].body)["text"] == "Please write to us at help@example.com."
    assert PublicItem.objects.get(pk=item.pk).status == ItemStatus.PRIVATE
    assert PublicItem.objects.get(own=True).parent == item
    hide = client.post(f"/api/v1/social/items/{item.pk}/hide", {}, content_type="application/json", **bearer(admin))
    assert hide.status_code == 400 and hide.json()["code"] == "not_supported"
    ignored = client.post(f"/api/v1/social/items/{item.pk}/do-not-answer", {"reason": "troll"},
                          content_type="application/json", **bearer(admin))
    assert ignored.status_code == 201 and PublicItem.objects.get(pk=item.pk).status == ItemStatus.IGNORED


def test_rules_act_with_their_reason(client, admin, run_jobs):
    channel = make_api_channel(admin)
    with transaction.atomic():
        senior = do_create_team(admin.workspace, "Senior")
    auth = bearer(admin)
    created = client.post("/api/v1/social/rules", {"name": "Big complaints", "action": "route", "team_id": senior.pk,
                                                   "category": "complaint", "min_reach": 10000},
                          content_type="application/json", **auth)
    assert created.status_code == 201, created.content
    client.post("/api/v1/social/rules", {"name": "Praise needs no answer", "action": "do_not_answer",
                                         "category": "praise"}, content_type="application/json", **auth)
    no_team = client.post("/api/v1/social/rules", {"name": "x", "action": "route"},
                          content_type="application/json", **auth)
    assert no_team.status_code == 400 and no_team.json()["code"] == "team_required"
    push(client, channel, mention())
    push(client, channel, mention(external_id="1864310022339281299", author={"handle": "small", "followers": 12}))
    push(client, channel, mention("mention_review.json"))
    run_jobs()
    big, small, review = PublicItem.objects.order_by("id")
    routed = big.actions.get()
    assert routed.kind == "route" and routed.rule.name == "Big complaints" and routed.state == "done"
    assert "Big complaints" in routed.reason and "12800 ≥ 10000" in routed.reason
    assert big.team == senior and big.conversation.team == senior
    assert big.conversation.messages.get().metadata["public_item"]["id"] == big.pk
    assert small.actions.count() == 0 and small.conversation is None
    assert review.status == ItemStatus.IGNORED and "Praise needs no answer" in review.actions.get().reason
    assert [r["name"] for r in client.get("/api/v1/social/rules", **auth).json()] == [
        "Big complaints", "Praise needs no answer"]


def test_two_workspaces_never_meet(client, admin, run_jobs):
    ours = make_api_channel(admin)
    other_admin = make_workspace("Other Co")
    theirs = make_api_channel(other_admin, secret="t" * 32)
    push(client, ours, mention())
    push(client, theirs, mention())  # the same post seen by both: one item in each
    run_jobs()
    mine, other = PublicItem.objects.get(workspace=admin.workspace), PublicItem.objects.get(workspace=other_admin.workspace)
    auth = bearer(admin)
    assert [i["id"] for i in client.get("/api/v1/social/items", **auth).json()["items"]] == [mine.pk]
    assert client.get(f"/api/v1/social/items/{other.pk}", **auth).status_code == 404
    assert client.post(f"/api/v1/social/items/{other.pk}/do-not-answer", {}, content_type="application/json",
                       **auth).status_code == 404
    with transaction.atomic():
        draft = PublicAction.objects.create(workspace=other_admin.workspace, item=other, kind="reply_public",
                                            text="x", state="draft")
    assert client.post(f"/api/v1/social/actions/{draft.pk}/approve", **auth).status_code == 404
    rule = client.post("/api/v1/social/rules", {"name": "theirs", "action": "do_not_answer"},
                       content_type="application/json", **bearer(other_admin)).json()
    assert client.delete(f"/api/v1/social/rules/{rule['id']}", **auth).status_code == 404
    detail = client.get(f"/api/v1/social/items/{mine.pk}", **auth).json()
    assert detail["id"] == mine.pk and detail["above"] == [] and detail["actions"] == []


def test_rule_and_settings_changes_are_audited_and_erasure_takes_public_items(client, admin, run_jobs):
    from threadline.audit.models import AuditEntry
    from threadline.privacy.erasure import do_erase_contact

    channel = make_api_channel(admin)
    auth = bearer(admin)
    bad = client.post("/api/v1/social/rules", {"name": "x", "action": "hide", "category": "weird"},
                      content_type="application/json", **auth)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_category"
    rule = client.post("/api/v1/social/rules", {"name": "Hide spam", "action": "hide", "category": "spam"},
                       content_type="application/json", **auth).json()
    client.put(f"/api/v1/social/rules/{rule['id']}", {"name": "Hide spam", "action": "hide"},
               content_type="application/json", **auth)
    client.delete(f"/api/v1/social/rules/{rule['id']}", **auth)
    client.put("/api/v1/social/settings", {"approval_required": True}, content_type="application/json", **auth)
    assert list(AuditEntry.objects.filter(action__startswith="social.").order_by("id").values_list(
        "action", flat=True)) == ["social.rule_created", "social.rule_changed", "social.rule_deleted",
                                  "social.settings_changed"]
    with transaction.atomic():
        dana = do_create_contact(admin.workspace, name="Dana Levi")
        do_add_identity(dana, "external", "x:dana_levi", source="agent")
    push(client, channel, mention())
    run_jobs()
    assert PublicItem.objects.get().contact == dana
    with transaction.atomic():
        counts = do_erase_contact(dana)
    assert counts["social.PublicItem"] == 1 and not PublicItem.objects.exists()
