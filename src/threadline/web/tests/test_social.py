"""The social screens: the inbox of public items with their verdict and reasons, one item with its thread and
the public reply workflow (reply, approval by a second agent, hide, do not answer), admins' settings and rules;
right to left in Hebrew; other workspaces and light agents can neither see nor act."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from threadline.social import actions, queries
from threadline.social.models import ActionState, ItemStatus, PublicAction, PublicItem, SocialRule
from threadline.testing import factories
from threadline.web.tests.helpers import FETCH

MENTION = Path(__file__).resolve().parents[2] / "social" / "fixtures" / "mention_x.json"


def received(client, run_jobs, channel, **changes) -> PublicItem:
    body, headers = factories.signed_body(channel, {**json.loads(MENTION.read_text()), **changes})
    assert client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json",
                       **headers).status_code == 202
    run_jobs()
    return PublicItem.objects.order_by("-id").first()


def test_inbox_item_and_reply_with_approval(client, admin, run_jobs, receiver):
    channel = factories.make_api_channel(admin, webhook_url=receiver.url)
    item = received(client, run_jobs, channel)
    client.force_login(admin.user)
    assert 'href="/app/social"' in client.get("/app/").content.decode()
    page = client.get("/app/social").content.decode()
    assert f'href="/app/social/{item.pk}"' in page and "Dana Levi" in page
    assert "12800 followers" in page and queries.reasons_of(item)[0] in page
    assert client.post("/app/social/settings", {"approval_required": "on", "private_invitation": "Write to us"}
                       ).status_code == 302
    detail = client.get(f"/app/social/{item.pk}").content.decode()
    assert "Answer publicly" in detail and "https://x.com/dana_levi/status/1864310022339281254" in detail
    assert client.post(f"/app/social/{item.pk}/reply", {"text": "Sorry Dana!"}).status_code == 302
    draft = PublicAction.objects.get()
    assert draft.state == ActionState.DRAFT
    assert "Waiting for another agent" in client.get(f"/app/social/{item.pk}").content.decode()
    refused = client.post(f"/app/social/actions/{draft.pk}/approve", **FETCH)
    assert refused.status_code == 403 and refused.json()["code"] == "own_draft"
    second = factories.make_agent(admin, "omer@example.com")
    client.force_login(second.user)
    assert "Approve and post" in client.get(f"/app/social/{item.pk}").content.decode()
    assert client.post(f"/app/social/actions/{draft.pk}/approve").status_code == 302
    run_jobs()
    assert json.loads(receiver.requests[0].body)["text"] == "Sorry Dana!"
    assert PublicItem.objects.get(pk=item.pk).status == ItemStatus.ANSWERED
    assert client.post(f"/app/social/{item.pk}/do-not-answer", {"text": "done"}, **FETCH).json()["state"] == "done"


def test_admin_rules_and_settings(client, admin, run_jobs):
    client.force_login(admin.user)
    assert client.post("/app/social/rules/new", {"name": "Spam away", "action": "do_not_answer",
                                                 "category": "spam", "min_reach": ""}).status_code == 302
    bad = client.post("/app/social/rules/new", {"name": "x", "action": "hide", "min_reach": "many"}, **FETCH)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_number"
    rule = SocialRule.objects.get()
    assert "Spam away" in client.get("/app/social").content.decode()
    assert client.post(f"/app/social/rules/{rule.pk}/delete").status_code == 302
    assert not SocialRule.objects.exists()


def test_hebrew_reads_right_to_left_and_fits_a_phone(client, admin, run_jobs):
    item = received(client, run_jobs, factories.make_api_channel(admin))
    admin.user.language = "he"
    admin.user.save(update_fields=["language"])
    client.force_login(admin.user)
    for url in ("/app/social", f"/app/social/{item.pk}"):
        page = client.get(url).content.decode()
        assert '<html lang="he" dir="rtl">' in page
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
        assert '<p dir="auto">' in page  # the post keeps its own direction
    css = (Path(__file__).resolve().parent.parent / "static" / "web" / "app.css").read_text()
    start = css.index("/* social")
    rules = css[start:css.find("/*", start + 2) if css.find("/*", start + 2) > 0 else len(css)]
    assert "flex-wrap: wrap" in rules and "left" not in rules and "right" not in rules


def test_light_agents_and_other_workspaces(client, admin, run_jobs):
    item = received(client, run_jobs, factories.make_api_channel(admin))
    light = factories.make_agent(admin, "light@example.com", role="light_agent")
    client.force_login(light.user)
    page = client.get(f"/app/social/{item.pk}").content.decode()
    assert "Answer publicly" not in page
    assert client.post(f"/app/social/{item.pk}/reply", {"text": "hi"}, **FETCH).status_code == 403
    assert "Add a rule" not in client.get("/app/social").content.decode()
    assert client.post("/app/social/settings", {}, **FETCH).status_code == 403
    other = factories.make_workspace("Other Shop")
    client.force_login(other.user)
    assert "Dana Levi" not in client.get("/app/social").content.decode()
    assert client.get(f"/app/social/{item.pk}", **FETCH).status_code == 404
    refused = client.post(f"/app/social/{item.pk}/hide", {}, **FETCH)
    assert refused.status_code == 404 and refused.json()["code"] == "item_not_found"
    with transaction.atomic():
        draft = actions.do_reply_public(admin, item, "draft?")
    assert client.post(f"/app/social/actions/{draft.pk}/discard", **FETCH).status_code == 404
