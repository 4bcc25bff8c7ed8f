"""Reading a card for the panel (cached for a minute per app and contact) and running one of its actions.
Both call the app over the network, so neither runs inside a database transaction."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.utils.translation import gettext as _

from threadline.core import crypto
from threadline.core.errors import NotFound, ThreadlineError
from threadline.panelapps.cards import ActionResult, Card
from threadline.panelapps.context import PanelContext
from threadline.panelapps.models import PanelApp
from threadline.panelapps.registry import PROVIDERS

CARD_SECONDS = 60


@dataclass(frozen=True)
class Shown:
    app: PanelApp
    card: Card | None
    error: str = ""


def _key(app: PanelApp, context: PanelContext) -> str:
    return f"panelapps:card:{app.pk}:{int(app.updated_at.timestamp())}:{context.contact_id}"


def card_of(app: PanelApp, context: PanelContext, *, fresh: bool = False) -> Card:
    key = _key(app, context)
    cached = None if fresh else cache.get(key)
    if cached is not None:
        return Card.model_validate(cached)
    card = PROVIDERS[app.kind].card(app.base_url, crypto.decrypt_json(app.secrets_encrypted), context)
    cache.set(key, card.model_dump(), CARD_SECONDS)
    return card


def show(apps: list[PanelApp], context: PanelContext) -> list[Shown]:
    """Each app's card, or what went wrong with it (one failing app does not hide the others)."""
    shown = []
    for app in apps:
        try:
            shown.append(Shown(app, card_of(app, context)))
        except ThreadlineError as exc:
            shown.append(Shown(app, None, str(exc)))
    return shown


def run_action(app: PanelApp, context: PanelContext, action_id: str) -> ActionResult:
    """Only an action the app's current card offers for this customer runs (an agent cannot refund an order
    of somebody else by naming it); the card is read again afterwards."""
    if action_id not in {action.id for action in card_of(app, context).actions}:
        raise NotFound(_("The app offers no such action for this customer."), code="app_action_not_found")
    result = PROVIDERS[app.kind].act(app.base_url, crypto.decrypt_json(app.secrets_encrypted), context, action_id)
    cache.delete(_key(app, context))
    return result
