"""Which provider serves each kind of panel app, and the secrets each kind's configuration needs."""

from __future__ import annotations

from threadline.panelapps.models import PanelApp
from threadline.panelapps.providers.base import Provider
from threadline.panelapps.providers.custom import CustomApp
from threadline.panelapps.providers.shopify import Shopify
from threadline.panelapps.providers.woocommerce import WooCommerce

PROVIDERS: dict[str, Provider] = {
    PanelApp.Kind.CUSTOM: CustomApp(),
    PanelApp.Kind.SHOPIFY: Shopify(),
    PanelApp.Kind.WOOCOMMERCE: WooCommerce(),
}
SECRETS: dict[str, tuple[str, ...]] = {
    PanelApp.Kind.CUSTOM: ("secret",),
    PanelApp.Kind.SHOPIFY: ("access_token",),
    PanelApp.Kind.WOOCOMMERCE: ("consumer_key", "consumer_secret"),
}
