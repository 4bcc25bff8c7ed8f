"""The customer panel's apps against local servers: your own app (a signed card URL), Shopify's Admin REST API
and WooCommerce's REST API v3, answered with their documented shapes (fixtures)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from threadline.audit.models import AuditEntry
from threadline.channels.fake_provider import Call, FakeProvider
from threadline.conversations.models import AuthorKind, Message
from threadline.conversations.tests.builders import bearer, inbound_conversation, send_json
from threadline.testing.factories import make_agent, make_api_channel, make_token, make_workspace
from threadline.webhooks import signing

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "app-secret-0123456789abcdef"
SHOP = "/admin/api/2025-01"


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def server():
    fake = FakeProvider().start()
    yield fake
    fake.stop()


@pytest.fixture
def conversation(admin, client, run_jobs):
    return inbound_conversation(client, make_api_channel(admin), run_jobs, "m-1", "dana@example.com",
                                text="Where is my order?")


def add(api, kind: str, base_url: str, secrets: dict, name: str = "Orders") -> dict:
    response = send_json(api, "post", "/api/v1/panel-apps", {"kind": kind, "name": name, "base_url": base_url,
                                                              "secrets": secrets})
    assert response.status_code == 201, response.content
    return response.json()


def cards(api, conversation) -> list[dict]:
    response = api.get(f"/api/v1/panel-apps/conversations/{conversation.pk}/cards")
    assert response.status_code == 200, response.content
    return response.json()


def act(api, app: dict, conversation, action: str):
    return send_json(api, "post", f"/api/v1/panel-apps/{app['id']}/conversations/{conversation.pk}/actions",
                     {"action": action})


def notes(conversation) -> list[str]:
    return list(Message.objects.filter(conversation=conversation, is_note=True, author_kind=AuthorKind.SYSTEM)
                .values_list("text", flat=True))


def custom_app(call: Call):
    assert signing.verify(SECRET, call.body, call.headers["x-threadline-signature"])
    document = call.json()
    if document["type"] == "action":
        return 200, json.dumps({"message": f"Label sent for {document['action']}"}).encode(), {}
    emails = [i["address"] for i in document["contact"]["identities"] if i["kind"] == "email"]
    card = {"title": f"Plan: Pro ({', '.join(emails)})", "sections": [{"title": "Account", "fields": [
        {"label": "Since", "value": "2024"}, {"label": "Note", "value": "<script>alert(1)</script>"},
        {"label": "Admin", "value": "open", "url": "javascript:alert(1)"}]}],
        "actions": [{"id": "return-label:77", "label": "Send a return label", "confirm": "Send it?"}]}
    return 200, json.dumps(card).encode(), {"Content-Type": "application/json"}


def test_your_own_app_gets_a_signed_context_and_its_card_is_shown_safely(api, admin, client, server, conversation):
    server.handle("POST", "/card", custom_app)
    app = add(api, "custom", f"{server.url}/card", {"secret": SECRET})
    assert "secret" not in json.dumps(app) and SECRET not in json.dumps(api.get("/api/v1/panel-apps").json())
    [shown] = cards(api, conversation)
    assert shown["error"] == "" and shown["card"]["title"] == "Plan: Pro (dana@example.com)"
    [sent] = server.requests
    assert sent.json()["conversation"]["id"] == conversation.pk and sent.json()["agent"]["email"]
    client.force_login(admin.user)
    page = client.get(f"/app/c/{conversation.pk}/").content.decode()
    assert f'data-apps-src="/app/x/conversations/{conversation.pk}/apps"' in page
    html = client.get(f"/app/x/conversations/{conversation.pk}/apps").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "javascript:" not in html and "Send a return label" in html
    assert len(server.requests) == 1  # the card was read once and kept for a minute
    answer = act(api, app, conversation, "return-label:77")
    assert answer.json() == {"message": "Label sent for return-label:77"}
    assert notes(conversation) == [f"Orders: Label sent for return-label:77 (by {admin.user.email})"]
    assert AuditEntry.objects.filter(action="panel_app.action_run").count() == 1
    refused = act(api, app, conversation, "return-label:78")  # not on this customer's card
    assert (refused.status_code, refused.json()["code"]) == (404, "app_action_not_found")
    form = client.post(f"/app/x/conversations/{conversation.pk}/apps/{app['id']}/action",
                       {"action": "return-label:77"}, HTTP_ACCEPT="application/json")
    assert form.status_code == 400  # not confirmed


def test_shopify_orders_and_a_full_refund(api, server, conversation):
    server.route("GET", f"{SHOP}/customers/search.json", 200, fixture("shopify_customers_search.json"))
    server.route("GET", f"{SHOP}/customers/207119551/orders.json", 200, fixture("shopify_orders.json"))
    server.route("GET", f"{SHOP}/orders/450789469.json", 200, {"order": fixture("shopify_orders.json")["orders"][0]})
    server.route("POST", f"{SHOP}/orders/450789469/refunds/calculate.json", 200, fixture("shopify_refund_calculate.json"))
    server.route("POST", f"{SHOP}/orders/450789469/refunds.json", 201, {"refund": {"id": 929361464, "transactions": [
        {"id": 1068278509, "kind": "refund", "status": "success", "amount": "59.00", "parent_id": 389404469}]}})
    app = add(api, "shopify", server.url, {"access_token": "shpat_123"}, name="Shop")
    [shown] = cards(api, conversation)
    card = shown["card"]
    assert [s["title"] for s in card["sections"]] == ["", "#1001", "#1000"]
    assert [a["id"] for a in card["actions"]] == ["refund:450789469"]  # #1000 is already refunded
    [search] = server.calls("GET", f"{SHOP}/customers/search.json")
    assert search.query["query"] == ["email:dana@example.com"] and search.headers["x-shopify-access-token"] == "shpat_123"
    answer = act(api, app, conversation, "refund:450789469")
    assert answer.json() == {"message": "Order #1001 refunded: 59.00 EUR"}
    [calculate] = server.calls("POST", f"{SHOP}/orders/450789469/refunds/calculate.json")
    assert calculate.json()["refund"]["refund_line_items"] == [
        {"line_item_id": 466157049, "quantity": 1, "restock_type": "no_restock"},
        {"line_item_id": 518995019, "quantity": 2, "restock_type": "no_restock"}]
    [created] = server.calls("POST", f"{SHOP}/orders/450789469/refunds.json")
    assert created.json()["refund"]["transactions"] == [
        {"parent_id": 389404469, "amount": "59.00", "kind": "refund", "gateway": "bogus"}]
    assert act(api, app, conversation, "refund:450789470").json()["code"] == "app_action_not_found"


def test_woocommerce_keeps_only_orders_billed_to_the_customer(api, server, conversation):
    server.route("GET", "/wp-json/wc/v3/orders", 200, fixture("woocommerce_orders.json"))
    server.route("GET", "/wp-json/wc/v3/orders/727", 200, fixture("woocommerce_orders.json")[0])
    server.route("POST", "/wp-json/wc/v3/orders/727/refunds", 201, {"id": 800, "amount": "29.35", "refunded_payment": True})
    app = add(api, "woocommerce", server.url, {"consumer_key": "ck_1", "consumer_secret": "cs_2"}, name="Woo")
    [shown] = cards(api, conversation)
    assert [s["title"] for s in shown["card"]["sections"]] == ["#727"]
    [listed] = server.calls("GET", "/wp-json/wc/v3/orders")
    assert listed.query["search"] == ["dana@example.com"]
    assert listed.headers["authorization"] == "Basic " + base64.b64encode(b"ck_1:cs_2").decode()
    assert act(api, app, conversation, "refund:727").json() == {"message": "Order #727 refunded: 29.35 EUR"}
    [refund] = server.calls("POST", "/wp-json/wc/v3/orders/727/refunds")
    assert refund.json()["amount"] == "29.35" and refund.json()["api_refund"] is True
    assert act(api, app, conversation, "refund:726").json()["code"] == "app_action_not_found"


def test_a_failing_app_says_why_and_the_others_still_show(api, server, conversation):
    server.route("POST", "/broken", 500, {"error": "down"})
    server.handle("POST", "/card", custom_app)
    add(api, "custom", f"{server.url}/broken", {"secret": SECRET}, name="Broken")
    add(api, "custom", f"{server.url}/card", {"secret": SECRET}, name="Works")
    broken, works = cards(api, conversation)
    assert (broken["card"], broken["error"]) == (None, "The app answered 500.")
    assert works["card"]["title"].startswith("Plan: Pro")


def test_apps_belong_to_one_workspace_and_admins_configure_them(api, admin, server, conversation):
    server.handle("POST", "/card", custom_app)
    app = add(api, "custom", f"{server.url}/card", {"secret": SECRET})
    other = bearer(make_token(make_workspace("Other Desk")))
    assert api.get("/api/v1/panel-apps", **other).json() == []
    assert api.delete(f"/api/v1/panel-apps/{app['id']}", **other).status_code == 404
    assert api.get(f"/api/v1/panel-apps/conversations/{conversation.pk}/cards", **other).status_code == 404
    theirs = send_json(api, "post", f"/api/v1/panel-apps/{app['id']}/conversations/{conversation.pk}/actions",
                       {"action": "return-label:77"}, **other)
    assert theirs.status_code == 404 and not notes(conversation)
    agent = bearer(make_token(make_agent(admin, "ann@example.com")))
    assert api.get("/api/v1/panel-apps", **agent).status_code == 403
    assert len(api.get(f"/api/v1/panel-apps/conversations/{conversation.pk}/cards", **agent).json()) == 1
    missing = send_json(api, "post", "/api/v1/panel-apps", {"kind": "shopify", "name": "S", "base_url": server.url})
    assert (missing.status_code, missing.json()["code"]) == (400, "invalid")
    patched = send_json(api, "patch", f"/api/v1/panel-apps/{app['id']}", {"is_active": False})
    assert patched.json()["is_active"] is False
    assert cards(api, conversation) == []


def test_shopify_and_woocommerce_refusals_show_on_the_card(api, server, conversation):
    server.route("GET", f"{SHOP}/customers/search.json", 401, {"errors": "[API] Invalid API key or access token"})
    server.route("GET", "/wp-json/wc/v3/orders", 429, {"code": "too_many_requests"}, {"Retry-After": "5"})
    add(api, "shopify", server.url, {"access_token": "shpat_wrong"}, name="Shop")
    add(api, "woocommerce", server.url, {"consumer_key": "ck", "consumer_secret": "cs"}, name="Woo")
    shop, woo = cards(api, conversation)
    assert (shop["card"], shop["error"]) == (None, "The app refused Threadline's credentials.")
    assert (woo["card"], woo["error"]) == (None, "The app answered 429.")
