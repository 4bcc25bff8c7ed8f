"""WooCommerce (REST API v3 under `/wp-json/wc/v3`, a consumer key and secret over HTTPS Basic auth): the
customer's last orders by billing email, and a full refund through the payment gateway (`api_refund`)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from django.utils.translation import gettext as _

from threadline.core.errors import NotFound
from threadline.panelapps.cards import ActionResult, Card, CardAction, CardField, CardSection
from threadline.panelapps.context import PanelContext
from threadline.panelapps.providers.base import call

API = "/wp-json/wc/v3"
REFUNDABLE = {"processing", "completed", "on-hold"}


def _auth(secrets: dict[str, str]) -> dict[str, str]:
    pair = f"{secrets['consumer_key']}:{secrets['consumer_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


class WooCommerce:
    def _orders(self, base_url: str, secrets: dict[str, str], email: str) -> list[dict[str, Any]]:
        url = f"{base_url.rstrip('/')}{API}/orders?search={quote(email)}&per_page=10&orderby=date&order=desc"
        orders = call("GET", url, headers=_auth(secrets)) or []
        # `search` also matches names and notes: keep the orders billed to this very address
        return [o for o in orders if str((o.get("billing") or {}).get("email", "")).lower() == email.lower()][:5]

    def card(self, base_url: str, secrets: dict[str, str], context: PanelContext) -> Card:
        orders: list[dict[str, Any]] = []
        for email in context.addresses("email")[:3]:
            orders = self._orders(base_url, secrets, email)
            if orders:
                break
        if not orders:
            return Card(title=_("No WooCommerce orders for this person's email"))
        admin = base_url.rstrip("/") + "/wp-admin/post.php?action=edit&post="
        sections, actions = [], []
        for order in orders:
            total = f"{order.get('total', '')} {order.get('currency', '')}".strip()
            number = f"#{order.get('number') or order['id']}"
            items = ", ".join(f"{i.get('quantity', 1)} × {i.get('name', '')}" for i in order.get("line_items") or [])
            sections.append(CardSection(title=number, fields=[
                CardField(label=_("Placed"), value=str(order.get("date_created_gmt") or "")[:10],
                          url=f"{admin}{int(order['id'])}"),
                CardField(label=_("Total"), value=total),
                CardField(label=_("Status"), value=str(order.get("status") or "")),
                CardField(label=_("Items"), value=items[:500]),
            ]))
            if order.get("status") in REFUNDABLE:
                actions.append(CardAction(id=f"refund:{order['id']}", label=_("Refund %(order)s") % {"order": number},
                                          confirm=_("Refund order %(order)s in full (%(total)s)?") % {
                                              "order": number, "total": total}))
        return Card(title=_("WooCommerce"), sections=sections, actions=actions)

    def act(self, base_url: str, secrets: dict[str, str], context: PanelContext, action_id: str) -> ActionResult:
        verb, _sep, order_id = action_id.partition(":")
        if verb != "refund" or not order_id.isdigit():
            raise NotFound(_("The app has no such action."), code="app_action_not_found")
        root = f"{base_url.rstrip('/')}{API}/orders/{order_id}"
        order = call("GET", root, headers=_auth(secrets)) or {}
        refund = call("POST", f"{root}/refunds", headers=_auth(secrets), document={
            "amount": str(order.get("total", "0")), "api_refund": True,
            "reason": _("Refunded from Threadline by %(agent)s") % {"agent": context.agent_email}}) or {}
        return ActionResult(message=_("Order %(order)s refunded: %(amount)s %(currency)s") % {
            "order": f"#{order.get('number') or order_id}", "amount": refund.get("amount", order.get("total", "")),
            "currency": order.get("currency", "")})
