"""The external bot platforms by kind: `get(kind)` → an `ExternalBot`, `KINDS` for forms and validation."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from threadline.botplatforms.base import BotConfigError, PlatformBot, parse_config
from threadline.botplatforms.bot_framework import BotFramework
from threadline.botplatforms.dialogflow_cx import DialogflowCX
from threadline.botplatforms.lex_v2 import LexV2
from threadline.core import http
from threadline.core.errors import ValidationFailed

_BOTS: dict[str, PlatformBot] = {bot.kind: bot for bot in (DialogflowCX(), LexV2(), BotFramework())}
KINDS: tuple[str, ...] = tuple(_BOTS)
LABELS = {"dialogflow_cx": "Dialogflow CX", "lex_v2": "Amazon Lex V2", "bot_framework": "Microsoft Bot Framework"}


def get(kind: str) -> PlatformBot:
    """The platform of `kind` (an `ExternalBot`); ValidationFailed for an unknown kind."""
    try:
        return _BOTS[kind]
    except KeyError:
        raise ValidationFailed(_("Unknown bot platform: %(kind)s.") % {"kind": kind}, code="unknown_bot_platform",
                               field="kind") from None


def validate_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config as the platform will read it (defaults filled in), or ValidationFailed naming the field: for
    the screen or API where an admin saves a bot's settings."""
    try:
        parsed = parse_config(get(kind).config_schema, config)
    except BotConfigError as exc:
        raise ValidationFailed(exc.message, code="invalid_bot_config", field="config") from exc
    for field, url in parsed.endpoints().items():
        try:
            http.check_url(url)
        except http.DestinationRefused as exc:
            raise ValidationFailed(_("%(field)s is not an http(s) URL.") % {"field": field},
                                   code="invalid_bot_config", field=field) from exc
        http.refuse_private_url(url, field=field)
    return parsed.model_dump()


def check_connection(kind: str, config: dict[str, Any]) -> None:
    """An admin's "test connection": returns when the platform accepts the credentials, else raises the
    BotPlatformError saying why (BotAuthError for refused credentials)."""
    get(kind).check_connection(config)
