"""Shopify (Admin REST API 2025-01, a custom app's Admin API access token in `X-Shopify-Access-Token`): the
customer found by email (then phone), their last orders, and a full refund of an order (calculate, then create
with the calculated transactions, as Shopify documents)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.utils.translation import gettext as _

from threadline.core.errors import NotFound
from threadline.panelapps.cards import ActionResult, Card, CardAction, CardField, CardSection
from threadline.panelapps.context import PanelContext
from threadline.panelapps.providers.base import AppUnavailable, call

API = "/admin/api/2025-01"
REFUNDABLE = {"paid", "partially_paid", "partially_refunded"}


def _get(base_url: str, secrets: dict[str, str], path: str) -> Any:
    return call("GET", f"{base_url.rstrip('/')}{API}{path}", headers={"X-Shopify-Access-Token": secrets["access_token"]})


def _post(base_url: str, secrets: dict[str, str], path: str, document: dict[str, Any]) -> Any:
    return call("POST", f"{base_url.rstrip('/')}{API}{path}", document=document,
                headers={"X-Shopify-Access-Token": secrets["access_token"]})


def _customer(base_url: str, secrets: dict[str, str], context: PanelContext) -> dict[str, Any] | None:
    for kind, field in (("email", "email"), ("phone", "phone")):
        for address in context.addresses(kind)[:3]:
            found = _get(base_url, secrets, f"/customers/search.json?query={quote(f'{field}:{address}')}&limit=1")
            customers = (found or {}).get("customers") or []
            if customers:
                return customers[0]
    return None


def _orders(base_url: str, secrets: dict[str, str], customer_id: int) -> list[dict[str, Any]]:
    answer = _get(base_url, secrets, f"/customers/{int(customer_id)}/orders.json?status=any&limit=5")
    return list((answer or {}).get("orders") or [])


class Shopify:
    def card(self, base_url: str, secrets: dict[str, str], context: PanelContext) -> Card:
        customer = _customer(base_url, secrets, context)
        if customer is None:
            return Card(title=_("No Shopify customer with this person's email or phone"))
        admin = base_url.rstrip("/") + "/admin"
        name = " ".join(filter(None, (customer.get("first_name"), customer.get("last_name")))) or customer.get("email") or ""
        sections, actions = [CardSection(fields=[
            CardField(label=_("Customer"), value=str(name), url=f"{admin}/customers/{customer['id']}"),
            CardField(label=_("Email"), value=str(customer.get("email") or "")),
        ])], []
        for order in _orders(base_url, secrets, customer["id"]):
            items = ", ".join(f"{i.get('quantity', 1)} × {i.get('title', '')}" for i in order.get("line_items") or [])
            total = f"{order.get('total_price', '')} {order.get('currency', '')}".strip()
            sections.append(CardSection(title=str(order.get("name") or order["id"]), fields=[
                CardField(label=_("Placed"), value=str(order.get("created_at") or "")[:10],
                          url=f"{admin}/orders/{order['id']}"),
                CardField(label=_("Total"), value=total),
                CardField(label=_("Payment"), value=str(order.get("financial_status") or "")),
                CardField(label=_("Fulfilment"), value=str(order.get("fulfillment_status") or _("unfulfilled"))),
                CardField(label=_("Items"), value=items[:500]),
            ]))
            if order.get("financial_status") in REFUNDABLE and not order.get("cancelled_at"):
                actions.append(CardAction(id=f"refund:{order['id']}", label=_("Refund %(order)s") % {
                    "order": order.get("name")}, confirm=_("Refund order %(order)s in full (%(total)s)?") % {
                    "order": order.get("name"), "total": total}))
        return Card(title=_("Shopify"), sections=sections, actions=actions)

    def act(self, base_url: str, secrets: dict[str, str], context: PanelContext, action_id: str) -> ActionResult:
        verb, _sep, order_id = action_id.partition(":")
        if verb != "refund" or not order_id.isdigit():
            raise NotFound(_("The app has no such action."), code="app_action_not_found")
        order = (_get(base_url, secrets, f"/orders/{order_id}.json") or {}).get("order") or {}
        lines = [{"line_item_id": i["id"], "quantity": i.get("quantity", 1), "restock_type": "no_restock"}
                 for i in order.get("line_items") or []]
        wanted = {"shipping": {"full_refund": True}, "refund_line_items": lines}
        calculated = (_post(base_url, secrets, f"/orders/{order_id}/refunds/calculate.json", {"refund": wanted})
                      or {}).get("refund") or {}
        transactions = [{"parent_id": t["parent_id"], "amount": t["amount"], "kind": "refund",
                         "gateway": t.get("gateway", "")} for t in calculated.get("transactions") or []]
        if not transactions:
            raise AppUnavailable(_("Shopify has nothing left to refund on this order."), code="app_error")
        created = (_post(base_url, secrets, f"/orders/{order_id}/refunds.json", {"refund": {
            **wanted, "notify": True, "note": _("Refunded from Threadline by %(agent)s") % {"agent": context.agent_email},
            "transactions": transactions}}) or {}).get("refund") or {}
        amount = sum(float(t.get("amount") or 0) for t in created.get("transactions") or transactions)
        return ActionResult(message=_("Order %(order)s refunded: %(amount)s %(currency)s") % {
            "order": order.get("name", order_id), "amount": f"{amount:.2f}", "currency": order.get("currency", "")})
