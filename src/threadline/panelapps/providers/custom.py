"""Your own app: Threadline POSTs the context, signed like its webhooks (`X-Threadline-Signature: t=<unix>,
v1=<HMAC-SHA256 of "t.body">` with the app's secret), to the app's URL; the app answers a card, or for an
action `{"message": ...}`. See docs/integrations.md for the shapes."""

from __future__ import annotations

import json

import pydantic
from django.utils.translation import gettext as _

from threadline.panelapps.cards import ActionResult, Card
from threadline.panelapps.context import PanelContext
from threadline.panelapps.providers.base import AppUnavailable, call
from threadline.webhooks.signing import signature_header


def _post(base_url: str, secret: str, document: dict[str, object]) -> object:
    body = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
    return call("POST", base_url, headers={"X-Threadline-Signature": signature_header(secret, body)}, body=body)


class CustomApp:
    def card(self, base_url: str, secrets: dict[str, str], context: PanelContext) -> Card:
        answer = _post(base_url, secrets["secret"], {"type": "card", **context.document()})
        try:
            return Card.model_validate(answer)
        except pydantic.ValidationError as exc:
            raise AppUnavailable(_("The app's card is not in the expected shape."), code="app_error") from exc

    def act(self, base_url: str, secrets: dict[str, str], context: PanelContext, action_id: str) -> ActionResult:
        answer = _post(base_url, secrets["secret"], {"type": "action", "action": action_id, **context.document()})
        try:
            return ActionResult.model_validate(answer)
        except pydantic.ValidationError as exc:
            raise AppUnavailable(_("The app's answer is not in the expected shape."), code="app_error") from exc
