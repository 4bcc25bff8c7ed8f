"""Apps of the customer panel: another system's card about the customer (orders, subscriptions, accounts)
shown beside a conversation, with actions the agent can run there (a refund)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import WorkspaceScoped


class PanelApp(WorkspaceScoped):
    class Kind(models.TextChoices):
        CUSTOM = "custom", _("Your own app (a signed card URL)")
        SHOPIFY = "shopify", _("Shopify")
        WOOCOMMERCE = "woocommerce", _("WooCommerce")

    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    base_url = models.URLField(max_length=300)  # the card URL, the shop's address, the WordPress site
    # custom: {"secret"}; shopify: {"access_token"}; woocommerce: {"consumer_key", "consumer_secret"}
    secrets_encrypted = models.TextField()
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name
